# Messages of the OpenID Connect pages.
oidc-logged-out-title = You have logged out
oidc-logged-out-frame = Signing out of the services you used
oidc-logged-out-continue = Continue
oidc-logged-out-text = Your session has ended. You can close this window.
oidc-error-client = The service that sent you here is not registered. Go back to the service and try again.
oidc-error-redirect-uri = The service that sent you here gave a return address that is not registered, so you cannot be sent back to it.
oidc-error-expired = The request to log in has expired. Go back to the service and start again.
