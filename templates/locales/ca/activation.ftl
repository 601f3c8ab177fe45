# Messages of the activation pages.

act-continue = Continua
act-start-again = Torna a començar
act-go-login = Inicia la sessió
act-field-identifier = Número de document (DNI, NIE o CUIL)
act-field-email = Adreça de correu electrònic
act-field-activation-code = Codi d'activació
act-field-activation-code-hint = Els 8 dígits que us van lliurar en registrar-vos.
act-field-sms-code = Codi rebut per SMS
act-field-password = Contrasenya nova
act-field-password-confirm = Repetiu la contrasenya nova
act-field-csv = Codi segur de verificació (CSV)
act-field-csv-hint = Figura a la vostra carta d'invitació; podeu escriure'l amb guions o sense.
act-field-tramite = Número de tràmit
act-field-tramite-hint = Els 11 dígits que figuren al vostre últim DNI vigent.

# Activation
act-activate-title = Activeu el vostre compte
act-activate-intro = Per crear la contrasenya, escriviu el número de document, l'adreça de correu electrònic que vau donar en registrar-vos (com a dada de contrast) i el codi d'activació. Després us enviarem un codi d'un sol ús per SMS al mòbil registrat.
act-activate-attempts-rule = Després de { $max } intents erronis el codi es bloqueja.
act-activate-already-active = El vostre compte ja està actiu. Si heu oblidat la contrasenya, feu servir el servei d'oblit de contrasenya.
act-code-mismatch = Les dades no coincideixen amb les registrades. Reviseu-les i torneu-ho a provar. Després de { $max } intents erronis el codi es bloqueja.
act-code-blocked = Aquest codi està bloquejat: registreu-vos de nou en una oficina o sol·liciteu un codi nou.
act-code-expired = Aquest codi ha caducat. Sol·liciteu-ne un de nou en una oficina de registre, amb una carta d'invitació o per internet.
act-code-none = No hi ha cap codi vàlid per a aquest compte. El podeu obtenir en una oficina de registre, amb una carta d'invitació o per internet.
act-no-code-title = No teniu codi?
act-no-code-office = En qualsevol oficina de registre, amb el document d'identitat (sense cita prèvia).
act-no-code-letter = Amb la carta d'invitació que us vam enviar al domicili
act-no-code-anses = Per internet, amb el número de tràmit del DNI o responent preguntes sobre vós
act-link-recover = He oblidat la contrasenya
act-link-have-code = Ja tinc un codi d'activació

# Security policy
act-policy-title = Política de seguretat
act-policy-intro = Abans de crear la contrasenya, llegiu i accepteu la política de seguretat següent.
act-policy-personal = La contrasenya us identifica davant dels serveis que l'admeten i equival a la vostra signatura: el que es faça amb ella es considerarà fet per vós.
act-policy-secret = La contrasenya és personal i intransferible. Mantingueu-la en secret, no l'anoteu on altres puguen veure-la i no la feu servir en altres llocs.
act-policy-codes = No compartiu mai el codi d'activació ni els codis que us enviem per SMS, ni tan sols amb qui diga que és de l'administració.
act-policy-never-ask = pasarela MAI no us demanarà que informeu o confirmeu la contrasenya ni els codis per correu electrònic, SMS o telèfon.
act-policy-change = Canvieu la contrasenya immediatament si sospiteu que una altra persona la pot conèixer, i sempre que vulgueu.
act-policy-choose = Trieu una contrasenya sense relació amb vós (ni noms, ni dates, ni números de document) i eviteu caràcters repetits i sèries com 1234.
act-policy-public-computer = En un ordinador compartit o públic, no deixeu que el navegador recorde la contrasenya i tanqueu la sessió en acabar.
act-policy-version = Versió de la política de seguretat: { $version }.
act-policy-accept = He llegit i accepte la política de seguretat
act-policy-must-accept = Per continuar heu d'acceptar la política de seguretat.
act-policy-sms-next = En continuar us enviarem un codi d'un sol ús per SMS al mòbil { $mobile }.

# SMS code
act-sms-title = Codi enviat per SMS
act-sms-intro = Us hem enviat un codi de 6 dígits al mòbil { $mobile }. Escriviu-lo a continuació.
act-sms-sent = Us hem enviat un codi per SMS.
act-sms-send-failed = No hem pogut enviar el codi. Torneu-ho a provar.
act-sms-too-soon = Espereu { $seconds } segons abans de demanar un altre codi.
act-sms-too-many-sends = Heu demanat massa codis. Torneu a començar.
act-sms-wrong = El codi no és correcte. Intents restants: { $remaining }.
act-sms-expired = El codi ha caducat o ja s'ha fet servir. Demaneu-ne un de nou.
act-sms-exhausted = Massa codis erronis. Torneu a començar des del principi.
act-sms-resend-intro = No heu rebut el codi?
act-sms-resend = Envia un codi nou

# Password
act-password-title = Trieu la contrasenya
act-password-rules = La contrasenya ha de complir aquestes regles:
act-password-refused = No es pot fer servir aquesta contrasenya:
act-password-mismatch = Les dues contrasenyes no coincideixen.
act-password-submit = Crea la contrasenya
act-done-title = El vostre compte està actiu
act-done-text = S'ha creat la contrasenya. A partir d'ara podeu identificar-vos amb el número de document i la contrasenya.
act-done-remember = Recordeu: mai no us demanarem la contrasenya ni els codis.

# Forgotten password
act-recover-title = Oblit de contrasenya
act-recover-intro = Per establir una contrasenya nova, escriviu el número de document i el codi d'activació (el que vau fer servir per activar el compte). Després us enviarem un codi d'un sol ús per SMS al mòbil registrat.
act-recover-code-hint = El codi de 8 dígits que vau rebre en registrar-vos; és també el vostre codi de recuperació.
act-recover-no-code = Sense un codi d'activació vàlid no podeu recuperar la contrasenya per internet. Podeu obtenir un codi nou:
act-recover-not-active = El vostre compte encara no està actiu: activeu-lo primer amb el codi d'activació.
act-recover-done-title = S'ha canviat la contrasenya
act-recover-done-text = La contrasenya nova ja està establida. S'han tancat les sessions obertes i us hem enviat un avís per correu electrònic.

# Invitation letter
act-letter-title = Obteniu el codi d'activació amb una carta d'invitació
act-letter-intro = Escriviu el número de document i el codi segur de verificació (CSV) de la carta que us vam enviar al domicili. Us enviarem el codi d'activació per SMS al mòbil registrat.
act-letter-submit = Sol·licita el codi d'activació
act-letter-mismatch = Les dades no coincideixen amb cap carta d'invitació. Reviseu-les i torneu-ho a provar.
act-letter-blocked = Aquesta carta està bloquejada després de massa intents erronis. Sol·liciteu una carta nova o aneu a una oficina de registre.
act-letter-expired = Aquesta carta ha caducat. Sol·liciteu-ne una de nova o aneu a una oficina de registre.
act-letter-none = No hi ha cap carta d'invitació vàlida per a aquest compte. Sol·liciteu-la o aneu a una oficina de registre.

# Activation code sent
act-sent-title = Codi d'activació enviat
act-sent-text = Us hem enviat el codi d'activació per SMS al mòbil registrat. És vàlid fins al { $date }.
act-sent-never-share = No el compartiu amb ningú. Feu-lo servir ara per activar el compte o, si ja està actiu, per recuperar la contrasenya.
act-sent-link = Activa el meu compte

# ANSES style
act-anses-title = Obteniu el codi d'activació per internet
act-anses-intro = Escriviu el número de document i el número de tràmit que figura al vostre últim DNI vigent. Si coincideixen, us enviarem un codi d'activació per SMS.
act-anses-mismatch = No hem pogut verificar la vostra identitat. Intents restants: { $left }.
act-anses-not-available = Aquesta manera de verificar la identitat no està disponible per al vostre compte. Proveu l'altra o aneu a una oficina.
act-anses-exhausted = No hem pogut verificar la vostra identitat i no queden intents: ara només ho podeu fer presencialment.
act-anses-in-person = Sempre podeu anar a qualsevol oficina amb el DNI (sense cita prèvia); allà obtindreu el nivell més alt.
act-anses-no-tramite-title = No trobeu el número de tràmit?
act-anses-questions-link = Responeu en el seu lloc preguntes sobre vós

# Identity questions
act-quiz-title = Preguntes de verificació d'identitat
act-quiz-intro = Escriviu el número de document i us farem algunes preguntes la resposta de les quals només hauríeu de conèixer vós. Teniu 3 intents en total.
act-quiz-answer-intro = Trieu una resposta per a cada pregunta.
act-quiz-none = Cap de les anteriors / No ho sé
act-quiz-q-employer = Heu treballat en alguna d'aquestes empreses o organitzacions?
act-quiz-q-bank = Teniu compte en algun d'aquests bancs?
act-quiz-q-health = Esteu o heu estat afiliat a alguna d'aquestes obres socials o asseguradores de salut?
act-quiz-q-city = Heu viscut en algun d'aquests llocs?
act-quiz-q-other = Quina d'aquestes opcions està relacionada amb vós?
act-quiz-gone = Les preguntes han caducat. Torneu a començar.
act-quiz-use-tramite = Fes servir el número de tràmit
