//! A self-hosted image captcha for the login form, shown after repeated failed passwords.
//!
//! The image is an SVG (sent inline as a `data:` URI, no JavaScript, no third party) with five
//! random digits, each drawn as a polyline whose points are jittered, scaled and sheared at
//! random, over a few random noise lines. There is no `<text>` element, so the digits are not
//! in the markup as characters. The answer is stored only as a keyed hash in the ephemeral
//! store, bound to the login attempt that showed it, for a few minutes, and can be checked
//! once.
//!
//! Limits, honestly: this only raises the cost of scripted password guessing. A purpose-built
//! recogniser (or a person paid to answer) reads these digits easily, since the strokes are
//! clean polylines; the real protection against guessing is the per-account delays and lock
//! and the per-address throttle in [`super::login`]. It is also a barrier for blind citizens:
//! the image has a text alternative that says what to type but cannot say the digits, so
//! such citizens need the registry office or the assisted channel after repeated failures.
//! The login pages also count failures per client address, so citizens behind one shared
//! address (a library, a carrier's NAT) may see the captcha after other people's failures.

use super::CoreError;
use super::citizen::CitizenId;
use super::engine::Engine;
use super::random;
use crate::store::Consumed;
use base64::Engine as _;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

/// How long a captcha can be answered.
pub const CAPTCHA_TTL: Duration = Duration::from_secs(5 * 60);
/// How long failed passwords from one address count towards its captcha.
const ADDRESS_FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The ephemeral key flagging an address whose login attempts show the captcha.
fn address_flag(addr: IpAddr) -> String {
    format!("login:captcha-on:{addr}")
}

/// Number of digits in a captcha.
pub const CAPTCHA_DIGITS: usize = 5;

const WIDTH: f64 = 200.0;
const HEIGHT: f64 = 70.0;

/// Strokes of each digit on a 10 × 16 grid (x right, y down), as polylines.
const GLYPHS: [&[&[(f64, f64)]]; 10] = [
    &[&[
        (5.0, 0.0),
        (9.0, 2.0),
        (10.0, 8.0),
        (9.0, 14.0),
        (5.0, 16.0),
        (1.0, 14.0),
        (0.0, 8.0),
        (1.0, 2.0),
        (5.0, 0.0),
    ]],
    &[
        &[(2.0, 4.0), (6.0, 0.0), (6.0, 8.0), (6.0, 16.0)],
        &[(2.0, 16.0), (10.0, 16.0)],
    ],
    &[&[
        (0.0, 3.0),
        (3.0, 0.0),
        (8.0, 0.0),
        (10.0, 3.0),
        (10.0, 6.0),
        (5.0, 11.0),
        (0.0, 16.0),
        (10.0, 16.0),
    ]],
    &[&[
        (0.0, 1.0),
        (10.0, 0.0),
        (4.0, 7.0),
        (9.0, 9.0),
        (10.0, 13.0),
        (7.0, 16.0),
        (0.0, 15.0),
    ]],
    &[&[
        (7.0, 16.0),
        (7.0, 8.0),
        (7.0, 0.0),
        (0.0, 11.0),
        (10.0, 11.0),
    ]],
    &[&[
        (10.0, 0.0),
        (1.0, 0.0),
        (0.0, 7.0),
        (6.0, 6.0),
        (10.0, 9.0),
        (10.0, 13.0),
        (6.0, 16.0),
        (0.0, 15.0),
    ]],
    &[&[
        (9.0, 0.0),
        (3.0, 2.0),
        (0.0, 8.0),
        (0.0, 13.0),
        (3.0, 16.0),
        (8.0, 16.0),
        (10.0, 13.0),
        (9.0, 9.0),
        (5.0, 8.0),
        (0.0, 10.0),
    ]],
    &[&[(0.0, 0.0), (10.0, 0.0), (7.0, 8.0), (4.0, 16.0)]],
    &[&[
        (5.0, 8.0),
        (1.0, 6.0),
        (1.0, 2.0),
        (5.0, 0.0),
        (9.0, 2.0),
        (9.0, 6.0),
        (5.0, 8.0),
        (0.0, 11.0),
        (1.0, 15.0),
        (5.0, 16.0),
        (9.0, 15.0),
        (10.0, 11.0),
        (5.0, 8.0),
    ]],
    &[&[
        (10.0, 6.0),
        (5.0, 8.0),
        (1.0, 6.0),
        (0.0, 3.0),
        (3.0, 0.0),
        (8.0, 0.0),
        (10.0, 4.0),
        (10.0, 10.0),
        (7.0, 16.0),
        (1.0, 16.0),
    ]],
];

/// Random numbers drawn from one buffer of CSPRNG bytes.
struct Dice {
    bytes: Vec<u8>,
    at: usize,
}

impl Dice {
    fn new() -> Result<Self, CoreError> {
        Ok(Self {
            bytes: random::bytes(1024)?,
            at: 0,
        })
    }

    /// A number in `[lo, hi]`.
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        let b = self
            .bytes
            .get(self.at % self.bytes.len())
            .copied()
            .unwrap_or(0);
        self.at += 1;
        lo + (hi - lo) * f64::from(b) / 255.0
    }
}

/// Draws `digits` as an SVG document. Pure apart from the randomness it is given.
fn draw(digits: &str, dice: &mut Dice) -> String {
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\"><rect width=\"100%\" height=\"100%\" fill=\"#f4f4f0\"/>"
    );
    for _ in 0..5 {
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"#8a8a8a\" stroke-width=\"1.2\" points=\""
        );
        for k in 0..4 {
            let x = f64::from(k) * WIDTH / 3.0 + dice.range(-10.0, 10.0);
            let _ = write!(svg, "{x:.1},{:.1} ", dice.range(5.0, HEIGHT - 5.0));
        }
        svg.push_str("\"/>");
    }
    for (i, c) in digits.chars().enumerate() {
        let Some(glyph) = c.to_digit(10).and_then(|d| GLYPHS.get(d as usize)) else {
            continue;
        };
        let slot = (WIDTH - 20.0) / CAPTCHA_DIGITS as f64;
        let x0 = 12.0 + slot * i as f64 + dice.range(-3.0, 3.0);
        let y0 = 12.0 + dice.range(-5.0, 5.0);
        let (sx, sy) = (dice.range(1.9, 2.6), dice.range(2.3, 2.9));
        let shear = dice.range(-0.35, 0.35);
        let shade = dice.range(20.0, 90.0) as u8;
        for stroke in *glyph {
            let _ = write!(
                svg,
                "<polyline fill=\"none\" stroke=\"rgb({shade},{shade},{})\" stroke-width=\"{:.1}\" stroke-linecap=\"round\" stroke-linejoin=\"round\" points=\"",
                shade / 2 + 60,
                dice.range(2.4, 3.4)
            );
            for &(gx, gy) in *stroke {
                let x = x0 + gx * sx + (16.0 - gy) * shear + dice.range(-1.6, 1.6);
                let y = y0 + gy * sy + dice.range(-1.6, 1.6);
                let _ = write!(svg, "{x:.1},{y:.1} ");
            }
            svg.push_str("\"/>");
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The image as a `data:` URI for an `<img src>`.
fn data_uri(svg: &str) -> String {
    format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    )
}

fn key(bound_to: &str) -> String {
    format!("captcha:{bound_to}")
}

/// The answer is hashed with the engine's code key under a fixed, nobody's account id.
fn hash_subject() -> CitizenId {
    CitizenId(uuid::Uuid::nil())
}

fn purpose(bound_to: &str) -> String {
    format!("captcha:{bound_to}")
}

impl Engine {
    /// A new captcha for the journey `bound_to` (replacing any earlier one): returns the
    /// image as a `data:` URI. The answer is stored hashed for [`CAPTCHA_TTL`].
    pub async fn issue_captcha(&self, bound_to: &str) -> Result<String, CoreError> {
        let answer = random::digits(CAPTCHA_DIGITS)?;
        self.store_captcha(bound_to, &answer).await
    }

    async fn store_captcha(&self, bound_to: &str, answer: &str) -> Result<String, CoreError> {
        let mut dice = Dice::new()?;
        let svg = draw(answer, &mut dice);
        let hash = self
            .codes
            .hash(hash_subject(), &purpose(bound_to), answer)?;
        self.ephemeral
            .put(&key(bound_to), hash.as_bytes(), CAPTCHA_TTL)
            .await?;
        Ok(data_uri(&svg))
    }

    /// Whether `answer` is the captcha shown to `bound_to`. The captcha is used up by this
    /// check, right or wrong: the next form shows a new one.
    pub async fn check_captcha(&self, bound_to: &str, answer: &str) -> Result<bool, CoreError> {
        let Consumed::Value(stored) = self.ephemeral.consume(&key(bound_to)).await? else {
            return Ok(false);
        };
        let answer: String = answer.chars().filter(|c| !c.is_whitespace()).collect();
        if answer.len() != CAPTCHA_DIGITS || !answer.chars().all(|c| c.is_ascii_digit()) {
            return Ok(false);
        }
        let stored = String::from_utf8_lossy(&stored);
        Ok(self
            .codes
            .verify(hash_subject(), &purpose(bound_to), &answer, &stored)?)
    }
}

impl Engine {
    /// Whether a login attempt must answer a captcha first: once the attempt has seen
    /// `after` wrong passwords, or while its address is flagged by
    /// [`Engine::count_address_failure`]. `after == 0` turns the captcha off.
    pub async fn captcha_required(
        &self,
        addr: Option<IpAddr>,
        attempt_failures: u32,
        after: u32,
    ) -> Result<bool, CoreError> {
        if after == 0 {
            return Ok(false);
        }
        if attempt_failures >= after {
            return Ok(true);
        }
        let Some(addr) = addr else {
            return Ok(false);
        };
        Ok(self.ephemeral.get(&address_flag(addr)).await?.is_some())
    }

    /// Counts a wrong password against the client address; from `after` failures within
    /// the window on, every new login attempt from it shows the captcha for a while.
    pub async fn count_address_failure(
        &self,
        addr: Option<IpAddr>,
        after: u32,
    ) -> Result<(), CoreError> {
        let Some(addr) = addr.filter(|_| after > 0) else {
            return Ok(());
        };
        let eph = &self.ephemeral;
        let n = eph
            .incr(&format!("login:failures:{addr}"), ADDRESS_FAILURE_WINDOW)
            .await?;
        if n >= i64::from(after) {
            eph.put(&address_flag(addr), b"1", ADDRESS_FAILURE_WINDOW)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::world;

    #[test]
    fn the_image_draws_every_digit_without_text() {
        let mut dice = Dice::new().unwrap();
        let svg = draw("01234", &mut dice);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<text"));
        // 5 noise lines, then one polyline per stroke (the 1 has two strokes).
        assert_eq!(svg.matches("<polyline").count(), 5 + 6);
        for d in ["01234", "56789"] {
            assert!(
                !draw(d, &mut dice).contains(d),
                "digits are not in the markup"
            );
        }
        let again = draw("01234", &mut Dice::new().unwrap());
        assert_ne!(svg, again, "jitter makes each image different");
        assert!(data_uri(&svg).starts_with("data:image/svg+xml;base64,"));
    }

    #[tokio::test]
    async fn an_answer_works_once_for_its_journey_only() {
        let w = world().await;
        let e = &w.engine;
        let answer = "40917";
        e.store_captcha("flow-1", answer).await.unwrap();
        let stored = e.ephemeral.get(&key("flow-1")).await.unwrap().unwrap();
        assert_eq!(stored.len(), 64, "only a hash is stored");
        assert!(!String::from_utf8(stored).unwrap().contains(answer));
        assert!(
            !e.check_captcha("flow-2", answer).await.unwrap(),
            "another journey"
        );
        assert!(
            e.check_captcha("flow-1", &format!(" {answer} "))
                .await
                .unwrap()
        );
        assert!(
            !e.check_captcha("flow-1", answer).await.unwrap(),
            "single use"
        );

        e.issue_captcha("flow-3").await.unwrap();
        assert!(!e.check_captcha("flow-3", "abcde").await.unwrap());
        assert!(
            e.ephemeral.get(&key("flow-3")).await.unwrap().is_none(),
            "a wrong answer uses the captcha up"
        );
    }
}
