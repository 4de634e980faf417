//! The signed-in user's screens: the user button, the profile, passkeys, two-step
//! verification and sessions.

use super::macros::section;

section! {
    /// `<UserButton>`.
    pub struct UserButtonTexts {
        manage_account: "Manage account" => "Gérer le compte",
    }
    plurals {}
}

section! {
    /// `<UserProfile>`'s account and security sections, and the re-authentication prompt.
    pub struct ProfileTexts {
        title: "Account" => "Compte",
    }
    plurals {}
}

section! {
    /// `<Passkeys>`.
    pub struct PasskeyTexts {
        title: "Passkeys" => "Clés d’accès",
    }
    plurals {}
}

section! {
    /// Two-step verification: the profile section and `<SetupMfa>`.
    pub struct TwoStepTexts {
        title: "Two-step verification" => "Validation en deux étapes",
    }
    plurals {
        backup_codes_left: ["{n} backup code left", "{n} backup codes left"] => ["{n} code de secours restant", "{n} codes de secours restants"],
    }
}

section! {
    /// The sessions list.
    pub struct SessionTexts {
        title: "Sessions" => "Sessions actives",
    }
    plurals {}
}
