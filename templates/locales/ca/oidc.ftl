# Missatges de les pàgines d'OpenID Connect.
oidc-logged-out-title = Heu tancat la sessió
oidc-logged-out-frame = Tancant la sessió als serveis que heu fet servir
oidc-logged-out-continue = Continua
oidc-logged-out-text = La vostra sessió ha acabat. Podeu tancar aquesta finestra.
oidc-error-client = El servei que us ha portat fins aquí no està registrat. Torneu al servei i torneu-ho a provar.
oidc-error-redirect-uri = El servei que us ha portat fins aquí va indicar una adreça de retorn que no està registrada, així que no us hi podem retornar.
oidc-error-expired = La sol·licitud d'accés ha caducat. Torneu al servei i comenceu de nou.
