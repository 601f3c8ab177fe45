# Mensajes de las páginas de OpenID Connect.
oidc-logged-out-title = Ha cerrado la sesión
oidc-logged-out-frame = Cerrando la sesión en los servicios que ha usado
oidc-logged-out-continue = Continuar
oidc-logged-out-text = Su sesión ha terminado. Puede cerrar esta ventana.
oidc-error-client = El servicio que le ha traído hasta aquí no está registrado. Vuelva al servicio e inténtelo de nuevo.
oidc-error-redirect-uri = El servicio que le ha traído hasta aquí indicó una dirección de vuelta que no está registrada, así que no se le puede devolver a ella.
oidc-error-expired = La solicitud de acceso ha caducado. Vuelva al servicio y empiece de nuevo.
