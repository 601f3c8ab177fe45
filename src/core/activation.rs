//! Activation codes (Cl@ve "código de activación") and invitation-letter CSV codes: generated
//! once, shown once, stored only as a keyed hash.
