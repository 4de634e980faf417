//! `<SignIn>`, password reset on the same card, and the second sign-in step.

use super::macros::section;

section! {
    /// The sign-in card and its password reset.
    pub struct SignInTexts {
        title: "Sign in" => "Se connecter",
        subtitle: "to continue to {app}" => "pour continuer vers {app}",
        submit: "Sign in" => "Se connecter",
        submitting: "Signing in…" => "Connexion…",
        forgot_password: "Forgot password?" => "Mot de passe oublié ?",
        email_link: "Email me a sign-in link" => "M’envoyer un lien de connexion",
        sending_link: "Sending link…" => "Envoi du lien…",
        with_provider: "Sign in with a provider" => "Se connecter avec un fournisseur",
        passkey: "Sign in with a passkey" => "Se connecter avec une clé d’accès",
        no_account: "No account yet? " => "Pas encore de compte ? ",
        create_account: "Create an account" => "Créer un compte",
        link_sent_title: "Check your inbox" => "Consultez votre messagerie",
        link_sent: "We sent a sign-in link to {email} if an account exists for it." => "Nous avons envoyé un lien de connexion à {email} si un compte existe pour cette adresse.",
        link_sent_hint: "Open it to sign in. It works once, and a newer link replaces it." => "Ouvrez-le pour vous connecter. Il ne sert qu’une fois, et un lien plus récent le remplace.",
        link_resent: "We sent a new link. Only the newest link works." => "Nous avons envoyé un nouveau lien. Seul le plus récent fonctionne.",
        resend_link: "Resend link" => "Renvoyer le lien",
        reset_title: "Reset your password" => "Réinitialiser votre mot de passe",
        reset_intro: "Enter your account's email. We will send it a 6-digit code to set a new password." => "Saisissez l’adresse e-mail de votre compte. Nous y enverrons un code à 6 chiffres pour choisir un nouveau mot de passe.",
        back_to_sign_in: "Back to sign in" => "Retour à la connexion",
        code_sent: "We sent a 6-digit code to {email} if an account exists for it." => "Nous avons envoyé un code à 6 chiffres à {email} si un compte existe pour cette adresse.",
        reset_signs_out: "Setting a new password signs you out on every other device." => "Choisir un nouveau mot de passe vous déconnecte de tous vos autres appareils.",
        reset_code: "Reset code" => "Code de réinitialisation",
        new_password: "New password" => "Nouveau mot de passe",
        set_password: "Set new password" => "Enregistrer le mot de passe",
        setting_password: "Setting password…" => "Enregistrement du mot de passe…",
        different_email: "Use a different email" => "Utiliser une autre adresse",
        oauth_cancelled: "Sign-in was cancelled. Try again, or use another way to sign in." => "La connexion a été annulée. Réessayez, ou connectez-vous autrement.",
        oauth_state_mismatch: "This sign-in could not be verified: it was not started in this browser, or it took too long. Try again." => "Cette connexion n’a pas pu être vérifiée : elle n’a pas commencé dans ce navigateur, ou elle a pris trop de temps. Réessayez.",
        oauth_account_exists: "An account with this email already exists. Sign in with your existing method first, then link this provider from your profile." => "Un compte existe déjà avec cette adresse. Connectez-vous d’abord avec votre moyen habituel, puis liez ce fournisseur depuis votre profil.",
        oauth_email_missing: "The provider did not share an email address, which your account needs." => "Le fournisseur n’a pas communiqué d’adresse e-mail, dont votre compte a besoin.",
        oauth_email_unverified: "The provider has not verified your email address, so it cannot create an account here. Verify the address with the provider first, or sign up with your email." => "Le fournisseur n’a pas vérifié votre adresse e-mail : il ne peut donc pas créer de compte ici. Vérifiez l’adresse auprès du fournisseur, ou inscrivez-vous avec votre adresse.",
        oauth_already_linked: "That account is already linked to another user." => "Ce compte est déjà lié à un autre utilisateur.",
        oauth_wrong_account: "That is not the provider account linked to yours. Sign in there with the account you linked." => "Ce n’est pas le compte du fournisseur lié au vôtre. Connectez-vous là-bas avec le compte que vous avez lié.",
        oauth_failed: "Signing in with the provider did not work. Try again." => "La connexion avec le fournisseur n’a pas abouti. Réessayez.",
    }
    plurals {}
}

section! {
    /// The second sign-in step, and the code choice re-authentication shares with it.
    pub struct SecondFactorTexts {
        title: "Two-step verification" => "Validation en deux étapes",
        use_passkey: "Use a passkey" => "Utiliser une clé d’accès",
        not_you: "Not you? " => "Ce n’est pas vous ? ",
        signing_in_as: "Signing in as {email}" => "Connexion en tant que {email}",
        use_backup_code: "Use a backup code instead" => "Utiliser plutôt un code de secours",
        use_authenticator: "Use your authenticator app instead" => "Utiliser plutôt l’application d’authentification",
        authenticator_code: "Authentication code" => "Code d’authentification",
        authenticator_hint: "The 6-digit code your authenticator app shows for this account." => "Le code à 6 chiffres que votre application d’authentification affiche pour ce compte.",
        backup_code: "Backup code" => "Code de secours",
        backup_hint: "One of the codes you saved when you set up two-step verification. Each works once." => "L’un des codes que vous avez gardés en configurant la validation en deux étapes. Chacun ne sert qu’une fois.",
    }
    plurals {}
}
