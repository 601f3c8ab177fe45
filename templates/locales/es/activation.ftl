# Messages of the activation pages.

act-continue = Continuar
act-start-again = Volver a empezar
act-go-login = Iniciar sesión
act-field-identifier = Número de documento (DNI, NIE o CUIL)
act-field-email = Dirección de correo electrónico
act-field-activation-code = Código de activación
act-field-activation-code-hint = Los 8 dígitos que le entregaron al registrarse.
act-field-sms-code = Código recibido por SMS
act-field-password = Nueva contraseña
act-field-password-confirm = Repita la nueva contraseña
act-field-csv = Código seguro de verificación (CSV)
act-field-csv-hint = Figura en su carta de invitación; puede escribirlo con o sin guiones.
act-field-tramite = Número de trámite
act-field-tramite-hint = Los 11 dígitos que figuran en su último DNI vigente.

# Activation
act-activate-title = Active su cuenta
act-activate-intro = Para crear su contraseña, escriba su número de documento, la dirección de correo electrónico que dio al registrarse (como dato de contraste) y su código de activación. Después le enviaremos un código de un solo uso por SMS a su móvil registrado.
act-activate-attempts-rule = Tras { $max } intentos erróneos el código se bloquea.
act-activate-already-active = Su cuenta ya está activa. Si ha olvidado su contraseña, use el servicio de olvido de contraseña.
act-code-mismatch = Los datos no coinciden con los registrados. Revíselos e inténtelo de nuevo. Tras { $max } intentos erróneos el código se bloquea.
act-code-blocked = Este código está bloqueado: regístrese de nuevo en una oficina o solicite un nuevo código.
act-code-expired = Este código ha caducado. Solicite uno nuevo en una oficina de registro, con una carta de invitación o por internet.
act-code-none = No hay ningún código válido para esta cuenta. Puede obtenerlo en una oficina de registro, con una carta de invitación o por internet.
act-no-code-title = ¿No tiene código?
act-no-code-office = En cualquier oficina de registro, con su documento de identidad (sin cita previa).
act-no-code-letter = Con la carta de invitación que le enviamos a su domicilio
act-no-code-anses = Por internet, con el número de trámite de su DNI o respondiendo preguntas sobre usted
act-link-recover = He olvidado mi contraseña
act-link-have-code = Ya tengo un código de activación

# Security policy
act-policy-title = Política de seguridad
act-policy-intro = Antes de crear su contraseña, lea y acepte la siguiente política de seguridad.
act-policy-personal = Su contraseña le identifica ante los servicios que la admiten y equivale a su firma: lo que se haga con ella se tendrá por hecho por usted.
act-policy-secret = Su contraseña es personal e intransferible. Manténgala en secreto, no la anote donde otros puedan verla y no la use en otros sitios.
act-policy-codes = No comparta nunca su código de activación ni los códigos que le enviamos por SMS, ni siquiera con quien diga ser de la administración.
act-policy-never-ask = pasarela NUNCA le pedirá que informe o confirme su contraseña ni sus códigos por correo electrónico, SMS o llamada telefónica.
act-policy-change = Cambie su contraseña de inmediato si sospecha que otra persona puede conocerla, y siempre que lo desee.
act-policy-choose = Elija una contraseña sin relación con usted (ni nombres, ni fechas, ni números de documento) y evite caracteres repetidos y series como 1234.
act-policy-public-computer = En un ordenador compartido o público, no deje que el navegador recuerde su contraseña y cierre la sesión al terminar.
act-policy-version = Versión de la política de seguridad: { $version }.
act-policy-accept = He leído y acepto la política de seguridad
act-policy-must-accept = Para continuar debe aceptar la política de seguridad.
act-policy-sms-next = Al continuar le enviaremos un código de un solo uso por SMS a su móvil { $mobile }.

# SMS code
act-sms-title = Código enviado por SMS
act-sms-intro = Le hemos enviado un código de 6 dígitos a su móvil { $mobile }. Escríbalo a continuación.
act-sms-sent = Le hemos enviado un código por SMS.
act-sms-send-failed = No hemos podido enviar el código. Inténtelo de nuevo.
act-sms-too-soon = Espere { $seconds } segundos antes de pedir otro código.
act-sms-too-many-sends = Ha pedido demasiados códigos. Vuelva a empezar.
act-sms-wrong = El código no es correcto. Intentos restantes: { $remaining }.
act-sms-expired = El código ha caducado o ya se ha usado. Pida uno nuevo.
act-sms-exhausted = Demasiados códigos erróneos. Vuelva a empezar desde el principio.
act-sms-resend-intro = ¿No ha recibido el código?
act-sms-resend = Enviar un código nuevo

# Password
act-password-title = Elija su contraseña
act-password-rules = Su contraseña debe cumplir estas reglas:
act-password-refused = No se puede usar esa contraseña:
act-password-mismatch = Las dos contraseñas no coinciden.
act-password-submit = Crear contraseña
act-done-title = Su cuenta está activa
act-done-text = Su contraseña se ha creado. A partir de ahora puede identificarse con su número de documento y su contraseña.
act-done-remember = Recuerde: nunca le pediremos su contraseña ni sus códigos.

# Forgotten password
act-recover-title = Olvido de contraseña
act-recover-intro = Para establecer una nueva contraseña, escriba su número de documento y su código de activación (el que usó para activar su cuenta). Después le enviaremos un código de un solo uso por SMS a su móvil registrado.
act-recover-code-hint = El código de 8 dígitos que recibió al registrarse; es también su código de recuperación.
act-recover-no-code = Sin un código de activación válido no puede recuperar su contraseña por internet. Puede obtener un código nuevo:
act-recover-not-active = Su cuenta aún no está activa: actívela primero con su código de activación.
act-recover-done-title = Su contraseña se ha cambiado
act-recover-done-text = Su nueva contraseña ya está establecida. Se han cerrado las sesiones abiertas y le hemos enviado un aviso por correo electrónico.

# Invitation letter
act-letter-title = Obtenga su código de activación con una carta de invitación
act-letter-intro = Escriba su número de documento y el código seguro de verificación (CSV) de la carta que le enviamos a su domicilio. Le enviaremos el código de activación por SMS a su móvil registrado.
act-letter-submit = Solicitar el código de activación
act-letter-mismatch = Los datos no coinciden con ninguna carta de invitación. Revíselos e inténtelo de nuevo.
act-letter-blocked = Esta carta está bloqueada tras demasiados intentos erróneos. Solicite una carta nueva o acuda a una oficina de registro.
act-letter-expired = Esta carta ha caducado. Solicite una nueva o acuda a una oficina de registro.
act-letter-none = No hay ninguna carta de invitación válida para esta cuenta. Solicítela o acuda a una oficina de registro.

# Activation code sent
act-sent-title = Código de activación enviado
act-sent-text = Le hemos enviado su código de activación por SMS a su móvil registrado. Es válido hasta el { $date }.
act-sent-never-share = No lo comparta con nadie. Úselo ahora para activar su cuenta o, si ya está activa, para recuperar su contraseña.
act-sent-link = Activar mi cuenta

# ANSES style
act-anses-title = Obtenga su código de activación por internet
act-anses-intro = Escriba su número de documento y el número de trámite que figura en su último DNI vigente. Si coinciden, le enviaremos un código de activación por SMS.
act-anses-mismatch = No hemos podido verificar su identidad. Intentos restantes: { $left }.
act-anses-not-available = Esta forma de verificar su identidad no está disponible para su cuenta. Pruebe la otra o acuda a una oficina.
act-anses-exhausted = No hemos podido verificar su identidad y no quedan intentos: ahora solo puede hacerlo de forma presencial.
act-anses-in-person = Siempre puede acudir a cualquier oficina con su DNI (sin turno previo); allí obtendrá el nivel más alto.
act-anses-no-tramite-title = ¿No encuentra el número de trámite?
act-anses-questions-link = Responda en su lugar preguntas sobre usted

# Identity questions
act-quiz-title = Preguntas de verificación de identidad
act-quiz-intro = Escriba su número de documento y le haremos algunas preguntas cuya respuesta solo usted debería conocer. Dispone de 3 intentos en total.
act-quiz-answer-intro = Elija una respuesta para cada pregunta.
act-quiz-none = Ninguna de las anteriores / No lo sé
act-quiz-q-employer = ¿Ha trabajado en alguna de las siguientes empresas u organizaciones?
act-quiz-q-bank = ¿Tiene cuenta en alguno de estos bancos?
act-quiz-q-health = ¿Está o ha estado afiliado a alguna de estas obras sociales o aseguradoras de salud?
act-quiz-q-city = ¿Ha vivido en alguno de estos lugares?
act-quiz-q-other = ¿Cuál de estas opciones está relacionada con usted?
act-quiz-gone = Las preguntas han caducado. Vuelva a empezar.
act-quiz-use-tramite = Usar el número de trámite
