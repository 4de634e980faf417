//! Words every card uses.

use super::macros::section;

section! {
    /// Labels and buttons shared by the cards.
    pub struct CommonTexts {
        email: "Email" => "Adresse e-mail",
        password: "Password" => "Mot de passe",
        or: "or" => "ou",
        back: "Back" => "Retour",
        cancel: "Cancel" => "Annuler",
        save: "Save" => "Enregistrer",
        saving: "Saving…" => "Enregistrement…",
        continue_: "Continue" => "Continuer",
        verify: "Verify" => "Vérifier",
        verifying: "Verifying…" => "Vérification…",
        send_code: "Send code" => "Envoyer le code",
        sending: "Sending…" => "Envoi…",
        resend_code: "Resend code" => "Renvoyer le code",
        sign_out: "Sign out" => "Se déconnecter",
        signing_out: "Signing out…" => "Déconnexion…",
        loading: "Loading…" => "Chargement…",
        remove: "Remove" => "Retirer",
        removing: "Removing…" => "Retrait…",
        password_hint: "At least 8 characters." => "8 caractères au moins.",
        continue_with: "Continue with {provider}" => "Continuer avec {provider}",
        passkey_waiting: "Waiting for your passkey…" => "En attente de votre clé d’accès…",
        code_sent_to: "We sent a 6-digit code to {email}." => "Nous avons envoyé un code à 6 chiffres à {email}.",
        new_code_sent_to: "We sent a new code to {email}." => "Nous avons envoyé un nouveau code à {email}.",
        code_label: "Verification code" => "Code de vérification",
        confirm: "Confirm" => "Confirmer",
        confirming: "Confirming…" => "Confirmation…",
    }
    plurals {}
}
