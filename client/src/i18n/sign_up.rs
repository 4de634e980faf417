//! `<SignUp>`.

use super::macros::section;

section! {
    /// The sign-up card: details, consent, the emailed code and the optional passkey.
    pub struct SignUpTexts {
        title: "Create your account" => "Créer votre compte",
        name: "Name (optional)" => "Nom (facultatif)",
        use_password: "Use a password instead" => "Utiliser plutôt un mot de passe",
        use_passkey: "Use a passkey instead of a password" => "Utiliser une clé d’accès au lieu d’un mot de passe",
        passkey_hint: "After you confirm your email, your device will create a passkey: you will sign in with your fingerprint, face or screen lock." => "Une fois votre adresse confirmée, votre appareil créera une clé d’accès : vous vous connecterez avec votre empreinte, votre visage ou le verrouillage de l’écran.",
        submit: "Create account" => "Créer le compte",
        submitting: "Creating account…" => "Création du compte…",
        have_account: "Already have an account? " => "Vous avez déjà un compte ? ",
        sign_in: "Sign in" => "Se connecter",
        consent: "I agree to the {terms} and {privacy}" => "J’accepte les {terms} et la {privacy}",
        terms_of_service: "Terms of Service" => "conditions d’utilisation",
        privacy_policy: "Privacy Policy" => "politique de confidentialité",
        code_sent: "We sent a 6-digit code to {email}" => "Nous avons envoyé un code à 6 chiffres à {email}",
        code_intro: "Enter it below to finish creating your account." => "Saisissez-le ci-dessous pour terminer la création de votre compte.",
        different_email: "Use a different email" => "Utiliser une autre adresse",
        one_more_step: "One more step to finish creating your account." => "Encore une étape pour terminer la création de votre compte.",
        continuing: "Continuing…" => "Poursuite…",
        email_confirmed: "Your email is confirmed." => "Votre adresse e-mail est confirmée.",
        create_passkey: "Now create the passkey you will sign in with: follow your browser's prompt." => "Créez maintenant la clé d’accès avec laquelle vous vous connecterez : suivez les indications du navigateur.",
        creating_passkey: "Creating passkey…" => "Création de la clé d’accès…",
        try_again: "Try again" => "Réessayer",
        without_passkey: "Without a passkey you can still sign in later with \"Forgot password?\" to set a password." => "Sans clé d’accès, vous pourrez toujours vous connecter plus tard avec « Mot de passe oublié ? » pour choisir un mot de passe.",
        skip: "Skip for now" => "Plus tard",
    }
    plurals {}
}
