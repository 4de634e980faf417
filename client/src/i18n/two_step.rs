//! Two-step verification: the profile's section and `<SetupMfa>`, which share the enrolment
//! steps.

use super::macros::section;

section! {
    /// The profile's two-step verification section, `<SetupMfa>` and the enrolment steps.
    pub struct TwoStepTexts {
        title: "Two-step verification" => "Validation en deux étapes",
        intro: "Ask for a code from your phone after your password, so a stolen password is not enough." => "Demandez un code de votre téléphone après le mot de passe : un mot de passe volé ne suffira plus.",
        required: "This app requires a second step at sign-in." => "Cette application exige une seconde étape à la connexion.",
        authenticator: "Authenticator app: {state}" => "Application d’authentification : {state}",
        on: "on" => "activée",
        off: "off" => "désactivée",
        add_authenticator: "Add an authenticator app" => "Ajouter une application d’authentification",
        authenticator_removed: "Removed the authenticator app." => "L’application d’authentification a été retirée.",
        turned_on: "Two-step verification is on." => "La validation en deux étapes est activée.",
        new_backup_codes: "Create new backup codes" => "Créer de nouveaux codes de secours",
        creating: "Creating…" => "Création…",
        setup_title: "Set up two-step verification" => "Configurer la validation en deux étapes",
        setup_intro: "This account needs a second step at sign-in: a code from an authenticator app on your phone." => "Ce compte exige une seconde étape à la connexion : un code d’une application d’authentification sur votre téléphone.",
        set_up: "Set up authenticator" => "Configurer l’application",
        preparing: "Preparing…" => "Préparation…",
        scan: "Scan this QR code with your authenticator app, then enter the 6-digit code it shows." => "Scannez ce QR code avec votre application d’authentification, puis saisissez le code à 6 chiffres qu’elle affiche.",
        qr_alt: "QR code for your authenticator app" => "QR code pour votre application d’authentification",
        manual_key: "Cannot scan it? Enter this key in the app: {key}" => "Impossible de le scanner ? Saisissez cette clé dans l’application : {key}",
        saved_title: "Save your backup codes" => "Conservez vos codes de secours",
        saved_intro: "If you lose your phone, each of these codes signs you in once. Keep them somewhere safe: they are not shown again." => "Si vous perdez votre téléphone, chacun de ces codes vous connecte une fois. Gardez-les en lieu sûr : ils ne seront plus affichés.",
    }
    plurals {
        backup_codes_left: ["Backup codes: {n} left", "Backup codes: {n} left"] => ["Codes de secours : {n} restant", "Codes de secours : {n} restants"],
    }
}
