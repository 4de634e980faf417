//! The signed-in user's screens: the user button, the profile's account and password forms,
//! passkeys, linked accounts, sessions and the re-authentication prompt. (Two-step
//! verification, shared with `<SetupMfa>`, is in `two_step.rs`.)

use super::macros::section;

section! {
    /// `<UserButton>` and its menu.
    pub struct UserButtonTexts {
        menu_button: "Account menu for {name}" => "Menu du compte de {name}",
        menu: "Account" => "Compte",
        manage_account: "Manage account" => "Gérer le compte",
    }
    plurals {}
}

section! {
    /// `<UserProfile>`'s frame, its account section (name, email) and its password form.
    pub struct ProfileTexts {
        account_title: "Account" => "Compte",
        security_title: "Security" => "Sécurité",
        name: "Name" => "Nom",
        save_name: "Save name" => "Enregistrer le nom",
        name_saved: "Your name was saved." => "Votre nom a été enregistré.",
        current_email: "Email: {email}" => "Adresse e-mail : {email}",
        verified: "Verified" => "Vérifiée",
        not_verified: "Not verified" => "Non vérifiée",
        change_email: "Change email" => "Changer d’adresse e-mail",
        new_email: "New email" => "Nouvelle adresse e-mail",
        email_changed: "Your email address is now {email}." => "Votre adresse e-mail est désormais {email}.",
        set_password_title: "Set a password" => "Choisir un mot de passe",
        no_password: "Your account has no password yet: add one to sign in with your email too." => "Votre compte n’a pas encore de mot de passe : ajoutez-en un pour vous connecter aussi avec votre adresse e-mail.",
        current_password: "Current password" => "Mot de passe actuel",
        new_password: "New password" => "Nouveau mot de passe",
        change_password: "Change password" => "Changer le mot de passe",
        set_password: "Set password" => "Enregistrer le mot de passe",
        password_changed: "Your password was changed." => "Votre mot de passe a été changé.",
        password_set: "Your password was set." => "Votre mot de passe a été enregistré.",
    }
    plurals {
        password_changed_sessions: ["Your password was changed, and {n} other session was signed out.", "Your password was changed, and {n} other sessions were signed out."] => ["Votre mot de passe a été changé, et {n} autre session a été fermée.", "Votre mot de passe a été changé, et {n} autres sessions ont été fermées."],
        password_set_sessions: ["Your password was set, and {n} other session was signed out.", "Your password was set, and {n} other sessions were signed out."] => ["Votre mot de passe a été enregistré, et {n} autre session a été fermée.", "Votre mot de passe a été enregistré, et {n} autres sessions ont été fermées."],
    }
}

section! {
    /// `<Passkeys>`, and the same list in the profile's security section.
    pub struct PasskeyTexts {
        title: "Passkeys" => "Clés d’accès",
        intro: "Sign in with your fingerprint, face or screen lock instead of a password." => "Connectez-vous avec votre empreinte, votre visage ou le verrouillage de l’écran plutôt qu’avec un mot de passe.",
        none: "No passkeys yet." => "Aucune clé d’accès pour l’instant.",
        add: "Add a passkey" => "Ajouter une clé d’accès",
        adding: "Adding…" => "Ajout…",
        added: "Added “{name}”." => "« {name} » a été ajoutée.",
        add_again: "You confirmed it is you. Press “Add a passkey” again." => "Votre identité est confirmée. Appuyez de nouveau sur « Ajouter une clé d’accès ».",
        removed: "Removed “{name}”." => "« {name} » a été retirée.",
        renamed: "Renamed to “{name}”." => "Renommée en « {name} ».",
        rename: "Rename" => "Renommer",
        rename_label: "Rename {name}" => "Renommer {name}",
        remove_label: "Remove {name}" => "Retirer {name}",
        name_label: "Passkey name" => "Nom de la clé d’accès",
        added_on: "Added {date}" => "Ajoutée le {date}",
        last_used: "Last used {date}" => "Dernière utilisation : {date}",
        never: "never" => "jamais",
    }
    plurals {}
}

section! {
    /// The linked provider accounts of the profile's security section.
    pub struct LinkedAccountTexts {
        title: "Linked accounts" => "Comptes liés",
        intro: "Sign in with an account you have with one of these providers." => "Connectez-vous avec un compte que vous avez chez l’un de ces fournisseurs.",
        none: "No linked accounts." => "Aucun compte lié.",
        link: "Link {provider}" => "Lier {provider}",
        linked: "The account was linked." => "Le compte a été lié.",
        linked_on: "Linked {date}" => "Lié le {date}",
        unlink: "Unlink" => "Dissocier",
        unlinking: "Unlinking…" => "Dissociation…",
        unlink_label: "Unlink {provider}" => "Dissocier {provider}",
        unlink_label_email: "Unlink {provider} ({email})" => "Dissocier {provider} ({email})",
        unlinked: "Unlinked {provider}." => "Le compte {provider} a été dissocié.",
    }
    plurals {}
}

section! {
    /// The sessions list.
    pub struct SessionTexts {
        title: "Sessions" => "Sessions actives",
        loading: "Loading sessions…" => "Chargement des sessions…",
        this_device: "This device" => "Cet appareil",
        signed_in_at: "Signed in {date}" => "Connexion : {date}",
        last_active: "Last active {date}" => "Dernière activité : {date}",
        signed_out_of: "Signed out of {device}." => "Session fermée sur {device}.",
        sign_out_others: "Sign out of all other sessions" => "Fermer toutes les autres sessions",
        no_others: "There were no other sessions." => "Il n’y avait aucune autre session.",
    }
    plurals {
        signed_out_others: ["Signed out of {n} other session.", "Signed out of {n} other sessions."] => ["{n} autre session a été fermée.", "{n} autres sessions ont été fermées."],
    }
}

section! {
    /// The re-authentication prompt a profile form opens when the server asks for a recent
    /// sign-in or a second factor.
    pub struct ReauthTexts {
        title: "Confirm it is you" => "Confirmez votre identité",
        intro: "For your security, prove who you are again before this change." => "Par sécurité, prouvez de nouveau votre identité avant cette modification.",
        intro_second_factor: "For your security, enter a code from your authenticator app (or a backup code) before this change." => "Par sécurité, saisissez un code de votre application d’authentification (ou un code de secours) avant cette modification.",
        impossible: "This browser cannot confirm it is you here. Sign out, then sign in again to continue." => "Ce navigateur ne peut pas confirmer votre identité ici. Déconnectez-vous, puis reconnectez-vous pour continuer.",
        confirmed: "You confirmed it is you. Go ahead with your change." => "Votre identité est confirmée. Vous pouvez poursuivre votre modification.",
    }
    plurals {}
}
