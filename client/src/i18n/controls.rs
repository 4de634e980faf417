//! The control components: the sign-in, sign-up and sign-out buttons, and the sign-in card's
//! "Last used" mark.

use super::macros::section;

section! {
    /// `<SignInButton>`, `<SignUpButton>`, `<SignOutButton>` and the "Last used" badge.
    pub struct ControlTexts {
        sign_in: "Sign in" => "Se connecter",
        sign_up: "Sign up" => "S’inscrire",
        sign_out: "Sign out" => "Se déconnecter",
        signing_out: "Signing out…" => "Déconnexion…",
        last_used: "Last used" => "Utilisé la dernière fois",
    }
    plurals {}
}
