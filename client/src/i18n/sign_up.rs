//! `<SignUp>`.

use super::macros::section;

section! {
    /// The sign-up card: details, consent, the emailed code and the optional passkey.
    pub struct SignUpTexts {
        title: "Create your account" => "Créer votre compte",
    }
    plurals {}
}
