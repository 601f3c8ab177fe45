# Messages of the account pages.

account-back = Tornar al vostre compte
account-cancel = Cancel·lar i tornar al vostre compte
account-continue = Continuar

## Overview
account-title = El vostre compte
account-name = Nom
account-identifier = Document
account-level = Nivell de seguretat d'aquesta sessió
account-methods = Mètodes utilitzats per entrar
account-totp-status = Aplicació de codis (TOTP)
account-totp-on = Activada
account-totp-off = No activada
account-manage = Gestionar el vostre compte
account-logout = Tancar la sessió
account-level-low = Baix
account-level-substantial = Substancial
account-level-high = Alt
account-method-pwd = contrasenya
account-method-sms = codi per SMS
account-method-otp = aplicació de codis
account-method-hwk = certificat electrònic

## Second factor
account-code-label = Codi
account-code-submit = Confirmar
account-code-no-app = No teniu l'aplicació a mà?
account-code-use-sms = Envieu-me un codi per SMS
account-code-prompt-totp = Escriviu el codi de 6 xifres que mostra la vostra aplicació de codis.
account-code-prompt-sms = Us hem enviat un codi de 6 xifres per SMS al número { $number }. Escriviu-lo aquí.
account-code-wrong = El codi no és correcte. Comproveu-lo i torneu-ho a provar.
account-code-wrong-remaining = El codi no és correcte. Us queden { $remaining } intents.
account-code-expired = El codi ha caducat o ja s'ha utilitzat. Torneu a començar.
account-code-exhausted = Heu escrit massa codis incorrectes. Torneu a començar.
account-sms-too-soon = Espereu { $seconds } segons abans de demanar un altre codi.
account-sms-too-many = Ja s'han enviat tots els codis possibles. Torneu a començar més tard.
account-sms-failed = No s'ha pogut enviar l'SMS. Torneu-ho a provar d'aquí a uns minuts.

## Password
account-password-title = Canviar la contrasenya
account-password-refused = No s'ha canviat la contrasenya:
account-current-password = Contrasenya actual
account-password-rules = La nova contrasenya ha de complir aquestes regles:
account-new-password = Nova contrasenya
account-new-password-confirm = Repetiu la nova contrasenya
account-password-next = Després us demanarem un codi per confirmar el canvi.
account-wrong-current-password = La contrasenya actual no és correcta.
account-password-mismatch = Les dues contrasenyes noves no coincideixen.
account-password-done-title = Contrasenya canviada
account-password-done = La vostra contrasenya s'ha canviat. Us hem enviat un avís per correu electrònic.

## Mobile
account-mobile-title = Canviar el número de mòbil
account-mobile-current = Número actual: { $number }
account-mobile-new = Nou número de mòbil
account-mobile-help = Us enviarem un codi a aquest número per comprovar que és vostre.
account-mobile-send = Enviar el codi
account-mobile-invalid = El número no és un mòbil vàlid.
account-mobile-same = Aquest número ja és el vostre.
account-mobile-done-title = Número de mòbil canviat
account-mobile-done = El vostre número de mòbil s'ha canviat. També hem avisat el número anterior.

## TOTP
account-totp-title = Aplicació de codis (TOTP)
account-totp-intro = Amb una aplicació de codis al telèfon podeu confirmar les vostres operacions sense esperar un SMS.
account-totp-step-app = Instal·leu una aplicació de codis (TOTP) al telèfon.
account-totp-step-scan = Escanegeu el codi QR amb l'aplicació, o escriviu la clau que apareix a sota.
account-totp-step-code = Escriviu el codi de 6 xifres que us mostri l'aplicació.
account-totp-qr-alt = Codi QR per afegir el vostre compte a l'aplicació de codis
account-totp-manual = Si no podeu escanejar el codi QR, escriviu aquesta clau a l'aplicació:
account-totp-code-label = Codi de l'aplicació
account-totp-confirm = Activar
account-totp-active = L'aplicació de codis està activada al vostre compte.
account-totp-remove-title = Desactivar l'aplicació de codis
account-totp-remove-help = Escriviu la vostra contrasenya actual per desactivar-la. A partir de llavors rebreu els codis per SMS.
account-totp-remove = Desactivar
account-totp-removed-title = Aplicació de codis desactivada
account-totp-removed = L'aplicació de codis ja no està associada al vostre compte. Podeu esborrar-la del telèfon.

## Sessions
account-sessions-title = Sessions obertes
account-sessions-intro = Aquests són els dispositius on el vostre compte té una sessió oberta. Si no en reconeixeu algun, tanqueu-lo i canvieu la contrasenya.
account-sessions-caption = Les vostres sessions obertes
account-sessions-device = Navegador
account-sessions-created = Inici
account-sessions-last-seen = Darrera activitat
account-sessions-action = Acció
account-sessions-this = aquesta sessió
account-sessions-end-this = Tancar aquesta sessió
account-sessions-end = Tancar
account-sessions-end-all = Tancar totes les altres sessions
account-sessions-unknown-agent = Navegador desconegut

## Deregistration
account-deregister-title = Donar-se de baixa
account-deregister-intro = Si us doneu de baixa:
account-deregister-final = La baixa és definitiva: no podreu tornar a entrar amb aquest compte.
account-deregister-sessions = Es tancaran totes les vostres sessions obertes.
account-deregister-services = No us podreu identificar als serveis que utilitzen aquest compte.
account-deregister-again = Per tornar a utilitzar la identificació electrònica us haureu de registrar de nou en una oficina.
account-deregister-confirm = Entenc les conseqüències i vull donar-me de baixa
account-deregister-submit = Continuar amb la baixa
account-deregister-confirm-missing = Marqueu la casella per confirmar que us voleu donar de baixa.
account-deregistered-title = Us heu donat de baixa
account-deregistered = El vostre compte s'ha donat de baixa i totes les sessions s'han tancat. Us hem enviat un avís per correu electrònic.
