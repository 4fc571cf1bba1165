//! The identities of the domain's entities: one newtype each, so that a
//! `WorkerId` is never taken for a `PostId`.

macro_rules! entity_id {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl $name {
            /// The number inside.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        /// A filter value (`ListSpec::new().filter_eq("worker_id", id)`).
        impl From<$name> for domain::FilterValue {
            fn from(id: $name) -> Self {
                domain::FilterValue::Int(id.0)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    )+};
}

entity_id! {
    /// A worker's identity.
    WorkerId,
    /// A resume's identity.
    ResumeId,
    /// A publisher's identity.
    PublisherId,
    /// A post's identity.
    PostId,
    /// A tag's identity.
    TagId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_show_their_number() {
        assert_eq!(WorkerId(7).to_string(), "7");
        assert_eq!(PostId(3).get(), 3);
        assert!(TagId(1) < TagId(2));
    }
}
