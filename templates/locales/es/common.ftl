lang-name = Español
site-name = pasarela · Identificación electrónica
skip-to-content = Saltar al contenido
footer-text = Nunca le pediremos su contraseña ni sus códigos por correo electrónico, SMS o teléfono.
error-title = No se ha podido completar la operación
error-back = Volver al inicio
error-not-found = La página que busca no existe.
error-unavailable = El servicio no está disponible en este momento. Inténtelo de nuevo en unos minutos.
error-csrf = El formulario ha caducado o no procede de esta página. Vuelva atrás, recargue la página e inténtelo de nuevo.
error-bad-request = La petición no es válida.
dev-sms-title = Mensajes SMS enviados (solo desarrollo)
dev-sms-empty = Todavía no se ha enviado ningún SMS.
dev-sms-to = Destinatario
dev-sms-text = Texto
dev-sms-sent-at = Enviado

# SAML: a request that cannot be answered to the service.
error-saml-request = La solicitud del servicio no es válida o no se ha podido verificar. Vuelva al servicio e inténtelo de nuevo.
