lang-name = English
site-name = pasarela · Electronic identification
skip-to-content = Skip to content
footer-text = We will never ask for your password or your codes by email, SMS or phone.
error-title = The operation could not be completed
error-back = Back to the start
error-not-found = The page you are looking for does not exist.
error-unavailable = The service is not available right now. Please try again in a few minutes.
error-csrf = The form has expired or did not come from this page. Go back, reload the page and try again.
error-bad-request = The request is not valid.
dev-sms-title = SMS messages sent (development only)
dev-sms-empty = No SMS has been sent yet.
dev-sms-to = To
dev-sms-text = Text
dev-sms-sent-at = Sent

# SAML: a request that cannot be answered to the service.
error-saml-request = The service's request is not valid or could not be verified. Go back to the service and try again.
