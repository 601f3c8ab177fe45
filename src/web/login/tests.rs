//! Unit tests of the login pages' helpers.

use super::*;
use crate::core::otp::SendRefusal;

#[test]
fn flashes_carry_their_number_and_kind() {
    let tr = Tr::new(crate::core::credentials::Lang::En);
    let wait = Flash::send_refused(&SendRefusal::TooSoon(17));
    assert!(wait.alert);
    assert!(wait.text(&tr).contains("17"), "{}", wait.text(&tr));
    assert_eq!(
        Flash::send_refused(&SendRefusal::TooManySends).key,
        "login-code-no-more"
    );
    assert_eq!(
        Flash::send_refused(&SendRefusal::Gateway("x".into())).key,
        "login-code-send-failed"
    );
    assert!(!Flash::status("login-code-resent").alert);
}

#[test]
fn the_second_factor_is_asked_for_when_the_mode_and_levels_say_so() {
    use LevelOfAssurance::*;
    use SecondFactor::*;
    assert!(needs_second_factor(Always, Some(High), None));
    assert!(!needs_second_factor(WhenNeeded, Some(Low), None));
    assert!(!needs_second_factor(WhenNeeded, Some(Low), Some(Low)));
    assert!(needs_second_factor(
        WhenNeeded,
        Some(Low),
        Some(Substantial)
    ));
    assert!(!needs_second_factor(
        WhenNeeded,
        Some(Substantial),
        Some(Substantial)
    ));
    assert!(needs_second_factor(WhenNeeded, None, None));
}

#[test]
fn flows_survive_a_round_trip_through_the_store() {
    let mut f = LoginFlow::new();
    f.level = Some(LevelOfAssurance::Substantial);
    f.flash = Some(Flash::alert("login-code-expired"));
    let back: LoginFlow = serde_json::from_slice(&serde_json::to_vec(&f).unwrap()).unwrap();
    assert_eq!(back.continue_to, DEFAULT_CONTINUE);
    assert_eq!(back.level, Some(LevelOfAssurance::Substantial));
    assert_eq!(back.flash, f.flash);
}
