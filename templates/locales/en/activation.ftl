# Messages of the activation pages.

act-continue = Continue
act-start-again = Start again
act-go-login = Log in
act-field-identifier = Document number (DNI, NIE or CUIL)
act-field-email = Email address
act-field-activation-code = Activation code
act-field-activation-code-hint = The 8 digits you were given when you registered.
act-field-sms-code = Code received by SMS
act-field-password = New password
act-field-password-confirm = Type the new password again
act-field-csv = Secure verification code (CSV)
act-field-csv-hint = It is printed on your invitation letter; you may type it with or without hyphens.
act-field-tramite = Procedure number (trámite)
act-field-tramite-hint = The 11 digits printed on your latest valid DNI.

# Activation
act-activate-title = Activate your account
act-activate-intro = To create your password, type your document number, the email address you gave when you registered (as an extra check) and your activation code. We will then send a one-time code by SMS to your registered mobile.
act-activate-attempts-rule = After { $max } wrong attempts the code is blocked.
act-activate-already-active = Your account is already active. If you have forgotten your password, use the forgotten-password service.
act-code-mismatch = The details do not match our records. Check them and try again. After { $max } wrong attempts the code is blocked.
act-code-blocked = This code is blocked: register again at an office or request a new code.
act-code-expired = This code has expired. Request a new one at a registration office, with an invitation letter or online.
act-code-none = There is no valid code for this account. You can get one at a registration office, with an invitation letter or online.
act-no-code-title = You do not have a code?
act-no-code-office = At any registration office, with your identity document (no appointment needed).
act-no-code-letter = With the invitation letter we sent to your postal address
act-no-code-anses = Online, with your DNI procedure number or by answering questions about yourself
act-link-recover = I have forgotten my password
act-link-have-code = I already have an activation code

# Security policy
act-policy-title = Security policy
act-policy-intro = Before creating your password, read and accept the following security policy.
act-policy-personal = Your password identifies you before the services that accept it and is equivalent to your signature: what is done with it is taken as done by you.
act-policy-secret = Your password is personal and cannot be handed to anyone else. Keep it to yourself, do not write it down where others can see it, and do not reuse it on other sites.
act-policy-codes = Never share your activation code or the codes we send you by SMS, not even with someone who says they are from the administration.
act-policy-never-ask = pasarela will NEVER ask you to tell or confirm your password or your codes by email, SMS or phone call.
act-policy-change = Change your password at once if you think someone else may know it, and whenever you wish.
act-policy-choose = Choose a password unrelated to you (no names, dates or document numbers) and avoid repeated characters and sequences such as 1234.
act-policy-public-computer = On a shared or public computer, do not let the browser remember your password and close the session when you finish.
act-policy-version = Security policy version { $version }.
act-policy-accept = I have read and accept the security policy
act-policy-must-accept = To continue you must accept the security policy.
act-policy-sms-next = When you continue, we will send a one-time code by SMS to your mobile { $mobile }.

# SMS code
act-sms-title = Code sent by SMS
act-sms-intro = We have sent a 6-digit code to your mobile { $mobile }. Type it below.
act-sms-sent = We have sent you a code by SMS.
act-sms-send-failed = We could not send the code. Please try again.
act-sms-too-soon = Please wait { $seconds } seconds before requesting another code.
act-sms-too-many-sends = You have requested too many codes. Start again.
act-sms-wrong = The code is not correct. Attempts left: { $remaining }.
act-sms-expired = The code has expired or was already used. Request a new one.
act-sms-exhausted = Too many wrong codes. Start again from the beginning.
act-sms-resend-intro = Have you not received the code?
act-sms-resend = Send a new code

# Password
act-password-title = Choose your password
act-password-rules = Your password must follow these rules:
act-password-refused = The password cannot be used:
act-password-mismatch = The two passwords are different.
act-password-submit = Create password
act-done-title = Your account is active
act-done-text = Your password has been created. From now on you can identify yourself with your document number and your password.
act-done-remember = Remember: we will never ask you for your password or your codes.

# Forgotten password
act-recover-title = Forgotten password
act-recover-intro = To set a new password, type your document number and your activation code (the one you used to activate your account). We will then send a one-time code by SMS to your registered mobile.
act-recover-code-hint = The 8-digit code you received when you registered; it is also your recovery code.
act-recover-no-code = Without a valid activation code you cannot recover your password online. You can get a new code:
act-recover-not-active = Your account is not active yet: activate it first with your activation code.
act-recover-done-title = Your password has been changed
act-recover-done-text = Your new password is set. Any open sessions have been closed and we have sent you an email notice.

# Invitation letter
act-letter-title = Get your activation code with an invitation letter
act-letter-intro = Type your document number and the secure verification code (CSV) of the letter we sent to your postal address. We will send your activation code by SMS to your registered mobile.
act-letter-submit = Request the activation code
act-letter-mismatch = The details do not match an invitation letter. Check them and try again.
act-letter-blocked = This letter is blocked after too many wrong attempts. Request a new letter or go to a registration office.
act-letter-expired = This letter has expired. Request a new one or go to a registration office.
act-letter-none = There is no valid invitation letter for this account. Request one or go to a registration office.

# Activation code sent
act-sent-title = Activation code sent
act-sent-text = We have sent your activation code by SMS to your registered mobile. It is valid until { $date }.
act-sent-never-share = Do not share it with anyone. Use it now to activate your account or, if it is already active, to recover your password.
act-sent-link = Activate my account

# ANSES style
act-anses-title = Get your activation code online
act-anses-intro = Type your document number and the procedure number (trámite) printed on your latest valid DNI. If they match, we will send you an activation code by SMS.
act-anses-mismatch = We could not verify your identity. Attempts left: { $left }.
act-anses-not-available = This way of verifying your identity is not available for your account. Try the other way or go to an office.
act-anses-exhausted = We could not verify your identity and there are no attempts left: you can only do this in person now.
act-anses-in-person = You can always go to any office with your DNI (no appointment needed); there you get the highest level.
act-anses-no-tramite-title = You cannot find the procedure number?
act-anses-questions-link = Answer questions about yourself instead

# Identity questions
act-quiz-title = Identity questions
act-quiz-intro = Type your document number and we will ask you some questions only you should know the answer to. You have 3 attempts in all.
act-quiz-answer-intro = Choose one answer for each question.
act-quiz-none = None of these / I don't know
act-quiz-q-employer = Have you worked for any of these companies or organisations?
act-quiz-q-bank = Do you have an account with any of these banks?
act-quiz-q-health = Are you or have you been a member of any of these health insurers?
act-quiz-q-city = Have you lived in any of these places?
act-quiz-q-other = Which of these is related to you?
act-quiz-gone = The questions have expired. Start again.
act-quiz-use-tramite = Use the procedure number instead
