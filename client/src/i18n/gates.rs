//! The gate screens.

use super::macros::section;

section! {
    /// `<AcceptTerms>` and `<VerifyEmail>`.
    pub struct GateTexts {
        terms_title: "Review our Terms" => "Lisez nos conditions",
        terms_intro: "To continue, please read and accept the Terms of Service and Privacy Policy." => "Pour continuer, lisez et acceptez les conditions d’utilisation et la politique de confidentialité.",
        terms_of_service: "Terms of Service" => "Conditions d’utilisation",
        privacy_policy: "Privacy Policy" => "Politique de confidentialité",
        terms_version: "Current version: {version}" => "Version en vigueur : {version}",
        accept: "Accept and continue" => "Accepter et continuer",
        accepting: "Accepting…" => "Acceptation…",
        verify_title: "Verify your email" => "Vérifiez votre adresse e-mail",
        verify_intro: "To continue, confirm your email address. We will send a 6-digit code to {email}." => "Pour continuer, confirmez votre adresse e-mail. Nous enverrons un code à 6 chiffres à {email}.",
        verify_code_sent: "We sent a 6-digit code to {email}" => "Nous avons envoyé un code à 6 chiffres à {email}",
        your_address: "your address" => "votre adresse",
        have_code: "I already have a code" => "J’ai déjà un code",
        no_code_waiting: "No code is waiting for this address. Send a new code." => "Aucun code n’attend cette adresse. Envoyez-en un nouveau.",
        recent_code: "A code was sent moments ago: enter it below, or request a new one." => "Un code vient d’être envoyé : saisissez-le ci-dessous, ou demandez-en un nouveau.",
    }
    plurals {
        recent_code_wait: ["A code was sent moments ago: enter it below, or request a new one in {n} second.", "A code was sent moments ago: enter it below, or request a new one in {n} seconds."] => ["Un code vient d’être envoyé : saisissez-le ci-dessous, ou demandez-en un nouveau dans {n} seconde.", "Un code vient d’être envoyé : saisissez-le ci-dessous, ou demandez-en un nouveau dans {n} secondes."],
    }
}
