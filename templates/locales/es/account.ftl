# Messages of the account pages.

account-back = Volver a su cuenta
account-cancel = Cancelar y volver a su cuenta
account-continue = Continuar

## Overview
account-title = Su cuenta
account-name = Nombre
account-identifier = Documento
account-level = Nivel de seguridad de esta sesión
account-methods = Métodos usados para entrar
account-totp-status = Aplicación de códigos (TOTP)
account-totp-on = Activada
account-totp-off = No activada
account-manage = Gestionar su cuenta
account-logout = Cerrar sesión
account-level-low = Bajo
account-level-substantial = Sustancial
account-level-high = Alto
account-method-pwd = contraseña
account-method-sms = código por SMS
account-method-otp = aplicación de códigos
account-method-hwk = certificado electrónico

## Second factor
account-code-label = Código
account-code-submit = Confirmar
account-code-no-app = ¿No tiene la aplicación a mano?
account-code-use-sms = Enviarme un código por SMS
account-code-prompt-totp = Escriba el código de 6 cifras que muestra su aplicación de códigos.
account-code-prompt-sms = Le hemos enviado un código de 6 cifras por SMS al número { $number }. Escríbalo aquí.
account-code-wrong = El código no es correcto. Compruébelo e inténtelo de nuevo.
account-code-wrong-remaining = El código no es correcto. Le quedan { $remaining } intentos.
account-code-expired = El código ha caducado o ya se ha usado. Vuelva a empezar.
account-code-exhausted = Ha escrito demasiados códigos incorrectos. Vuelva a empezar.
account-sms-too-soon = Espere { $seconds } segundos antes de pedir otro código.
account-sms-too-many = Ya se han enviado todos los códigos posibles. Vuelva a empezar más tarde.
account-sms-failed = No se ha podido enviar el SMS. Inténtelo de nuevo en unos minutos.

## Password
account-password-title = Cambiar la contraseña
account-password-refused = No se ha cambiado la contraseña:
account-current-password = Contraseña actual
account-password-rules = La nueva contraseña debe cumplir estas reglas:
account-new-password = Nueva contraseña
account-new-password-confirm = Repita la nueva contraseña
account-password-next = Después le pediremos un código para confirmar el cambio.
account-wrong-current-password = La contraseña actual no es correcta.
account-password-mismatch = Las dos contraseñas nuevas no coinciden.
account-password-done-title = Contraseña cambiada
account-password-done = Su contraseña se ha cambiado. Le hemos enviado un aviso por correo electrónico.

## Mobile
account-mobile-title = Cambiar el número de móvil
account-mobile-current = Número actual: { $number }
account-mobile-new = Nuevo número de móvil
account-mobile-help = Le enviaremos un código a este número para comprobar que es suyo.
account-mobile-send = Enviar el código
account-mobile-invalid = El número no es un móvil válido.
account-mobile-same = Ese número ya es el suyo.
account-mobile-done-title = Número de móvil cambiado
account-mobile-done = Su número de móvil se ha cambiado. Hemos avisado también al número anterior.

## TOTP
account-totp-title = Aplicación de códigos (TOTP)
account-totp-intro = Con una aplicación de códigos en su teléfono puede confirmar sus operaciones sin esperar un SMS.
account-totp-step-app = Instale una aplicación de códigos (TOTP) en su teléfono.
account-totp-step-scan = Escanee el código QR con la aplicación, o escriba la clave que aparece debajo.
account-totp-step-code = Escriba el código de 6 cifras que le muestre la aplicación.
account-totp-qr-alt = Código QR para añadir su cuenta a la aplicación de códigos
account-totp-manual = Si no puede escanear el código QR, escriba esta clave en la aplicación:
account-totp-code-label = Código de la aplicación
account-totp-confirm = Activar
account-totp-active = La aplicación de códigos está activada en su cuenta.
account-totp-remove-title = Desactivar la aplicación de códigos
account-totp-remove-help = Escriba su contraseña actual para desactivarla. A partir de entonces recibirá los códigos por SMS.
account-totp-remove = Desactivar
account-totp-removed-title = Aplicación de códigos desactivada
account-totp-removed = La aplicación de códigos ya no está asociada a su cuenta. Puede borrarla de su teléfono.

## Sessions
account-sessions-title = Sesiones abiertas
account-sessions-intro = Estos son los dispositivos donde su cuenta tiene una sesión abierta. Si no reconoce alguno, ciérrelo y cambie su contraseña.
account-sessions-caption = Sus sesiones abiertas
account-sessions-device = Navegador
account-sessions-created = Inicio
account-sessions-last-seen = Última actividad
account-sessions-action = Acción
account-sessions-this = esta sesión
account-sessions-end-this = Cerrar esta sesión
account-sessions-end = Cerrar
account-sessions-end-all = Cerrar todas las demás sesiones
account-sessions-unknown-agent = Navegador desconocido

## Deregistration
account-deregister-title = Darse de baja
account-deregister-intro = Si se da de baja:
account-deregister-final = La baja es definitiva: no podrá volver a entrar con esta cuenta.
account-deregister-sessions = Se cerrarán todas sus sesiones abiertas.
account-deregister-services = No podrá identificarse en los servicios que usan esta cuenta.
account-deregister-again = Para volver a usar la identificación electrónica tendrá que registrarse de nuevo en una oficina.
account-deregister-confirm = Entiendo las consecuencias y quiero darme de baja
account-deregister-submit = Continuar con la baja
account-deregister-confirm-missing = Marque la casilla para confirmar que quiere darse de baja.
account-deregistered-title = Se ha dado de baja
account-deregistered = Su cuenta se ha dado de baja y todas sus sesiones se han cerrado. Le hemos enviado un aviso por correo electrónico.
