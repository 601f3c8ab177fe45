# Messages of the account pages.

account-back = Back to your account
account-cancel = Cancel and go back to your account
account-continue = Continue

## Overview
account-title = Your account
account-name = Name
account-identifier = Document
account-level = Security level of this session
account-methods = Methods used to sign in
account-totp-status = Authenticator app (TOTP)
account-totp-on = On
account-totp-off = Not set up
account-manage = Manage your account
account-logout = Sign out
account-level-low = Low
account-level-substantial = Substantial
account-level-high = High
account-method-pwd = password
account-method-sms = SMS code
account-method-otp = authenticator app
account-method-hwk = electronic certificate

## Second factor
account-code-label = Code
account-code-submit = Confirm
account-code-no-app = Don't have the app with you?
account-code-use-sms = Send me a code by SMS
account-code-prompt-totp = Enter the 6-digit code shown by your authenticator app.
account-code-prompt-sms = We have sent a 6-digit code by SMS to { $number }. Enter it here.
account-code-wrong = The code is not correct. Check it and try again.
account-code-wrong-remaining = The code is not correct. Tries left: { $remaining }.
account-code-expired = The code has expired or was already used. Please start again.
account-code-exhausted = Too many wrong codes. Please start again.
account-sms-too-soon = Please wait { $seconds } seconds before asking for another code.
account-sms-too-many = Every possible code has already been sent. Please start again later.
account-sms-failed = The SMS could not be sent. Please try again in a few minutes.

## Password
account-password-title = Change your password
account-password-refused = Your password was not changed:
account-current-password = Current password
account-password-rules = Your new password must follow these rules:
account-new-password = New password
account-new-password-confirm = Repeat the new password
account-password-next = Next we will ask you for a code to confirm the change.
account-wrong-current-password = The current password is not correct.
account-password-mismatch = The two new passwords do not match.
account-password-done-title = Password changed
account-password-done = Your password has been changed. We have sent you a notice by email.

## Mobile
account-mobile-title = Change your mobile number
account-mobile-current = Current number: { $number }
account-mobile-new = New mobile number
account-mobile-help = We will send a code to this number to check that it is yours.
account-mobile-send = Send the code
account-mobile-invalid = That is not a valid mobile number.
account-mobile-same = That number is already yours.
account-mobile-done-title = Mobile number changed
account-mobile-done = Your mobile number has been changed. We have also told your previous number.

## TOTP
account-totp-title = Authenticator app (TOTP)
account-totp-intro = With an authenticator app on your phone you can confirm operations without waiting for an SMS.
account-totp-step-app = Install an authenticator (TOTP) app on your phone.
account-totp-step-scan = Scan the QR code with the app, or type in the key shown below.
account-totp-step-code = Enter the 6-digit code the app shows you.
account-totp-qr-alt = QR code to add your account to your authenticator app
account-totp-manual = If you cannot scan the QR code, type this key into the app:
account-totp-code-label = Code from the app
account-totp-confirm = Turn on
account-totp-active = The authenticator app is on for your account.
account-totp-remove-title = Turn off the authenticator app
account-totp-remove-help = Enter your current password to turn it off. From then on you will get your codes by SMS.
account-totp-remove = Turn off
account-totp-removed-title = Authenticator app turned off
account-totp-removed = The authenticator app is no longer linked to your account. You can delete it from your phone.

## Sessions
account-sessions-title = Signed-in sessions
account-sessions-intro = These are the devices where your account is signed in. If you do not recognise one, end it and change your password.
account-sessions-caption = Your signed-in sessions
account-sessions-device = Browser
account-sessions-created = Started
account-sessions-last-seen = Last active
account-sessions-action = Action
account-sessions-this = this session
account-sessions-end-this = End this session
account-sessions-end = End
account-sessions-end-all = End all other sessions
account-sessions-unknown-agent = Unknown browser

## Deregistration
account-deregister-title = Close your account
account-deregister-intro = If you close your account:
account-deregister-final = It is final: you will never be able to sign in with this account again.
account-deregister-sessions = All your signed-in sessions will end.
account-deregister-services = You will not be able to identify yourself to the services that use this account.
account-deregister-again = To use electronic identification again you will have to register again at an office.
account-deregister-confirm = I understand the consequences and want to close my account
account-deregister-submit = Continue closing my account
account-deregister-confirm-missing = Tick the box to confirm that you want to close your account.
account-deregistered-title = Your account is closed
account-deregistered = Your account has been closed and all your sessions have ended. We have sent you a notice by email.
