lang-name = Català
site-name = pasarela · Identificació electrònica
skip-to-content = Salta al contingut
footer-text = Mai no li demanarem la contrasenya ni els codis per correu electrònic, SMS o telèfon.
error-title = No s'ha pogut completar l'operació
error-back = Torna a l'inici
error-not-found = La pàgina que cerca no existeix.
error-unavailable = El servei no està disponible ara mateix. Torne-ho a provar d'ací a uns minuts.
error-csrf = El formulari ha caducat o no prové d'aquesta pàgina. Torne enrere, recarregue la pàgina i torne-ho a provar.
error-bad-request = La petició no és vàlida.
dev-sms-title = Missatges SMS enviats (només desenvolupament)
dev-sms-empty = Encara no s'ha enviat cap SMS.
dev-sms-to = Destinatari
dev-sms-text = Text
dev-sms-sent-at = Enviat

# SAML: a request that cannot be answered to the service.
error-saml-request = La sol·licitud del servei no és vàlida o no s'ha pogut verificar. Torneu al servei i torneu-ho a provar.
