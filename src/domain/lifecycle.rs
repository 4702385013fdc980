//! Which status may follow which. The store enforces this on every change; an illegal
//! transition is an error, never a silent no-op.
//!
//! ```text
//! draft ⇄ ready ──submit──▶ queued ──deliver──▶ delivered ─▶ accepted ─▶ in_production ─▶ shipped ───────────────▶ collected
//!   ▲                          │                    │            │              │            └▶ ready_for_collection ─┘
//!   └──────withdraw────────────┘                    └────────────┴──────────────┴──▶ returned ──edit──▶ (editable; resubmit ▶ queued)
//! ```

use super::application::Status;

/// The progress chain after delivery, in order; polling may skip ahead along it.
const PROGRESS: [Status; 6] = [
    Status::Delivered,
    Status::Accepted,
    Status::InProduction,
    Status::Shipped,
    Status::ReadyForCollection,
    Status::Collected,
];

fn progress_rank(s: Status) -> Option<usize> {
    PROGRESS.iter().position(|p| *p == s)
}

impl Status {
    /// Whether `self → next` is a legal transition.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        match (self, next) {
            (Draft, Ready) | (Ready, Draft) => true,
            // Submitting (also a corrected, returned application).
            (Draft | Ready | Returned, Queued) => true,
            // Withdrawn before delivery.
            (Queued, Draft) => true,
            // Delivery, or refused before delivery (ineligible, or the server's 4xx).
            (Queued, Delivered | Returned) => true,
            // Returned by the central API while it still could.
            (Delivered | Accepted | InProduction, Returned) => true,
            // Shipped by mail and ready at a branch are alternatives, not steps of one path.
            (Shipped, ReadyForCollection) => false,
            // Polling may see several steps at once: any forward move along the chain.
            (from, to) => matches!(
                (progress_rank(from), progress_rank(to)),
                (Some(a), Some(b)) if b > a
            ),
        }
    }

    /// Whether an application in this status may be deleted: only what never left the
    /// counter. Anything delivered is a record of a government application and stays.
    pub fn is_deletable(self) -> bool {
        matches!(self, Status::Draft | Status::Ready)
    }

    pub const ALL: [Status; 10] = [
        Status::Draft,
        Status::Ready,
        Status::Queued,
        Status::Delivered,
        Status::Accepted,
        Status::InProduction,
        Status::Shipped,
        Status::ReadyForCollection,
        Status::Collected,
        Status::Returned,
    ];

    /// The snake_case key used in JSON, the database and `--status`.
    pub fn key(self) -> &'static str {
        use Status::*;
        match self {
            Draft => "draft",
            Ready => "ready",
            Queued => "queued",
            Delivered => "delivered",
            Accepted => "accepted",
            InProduction => "in_production",
            Shipped => "shipped",
            ReadyForCollection => "ready_for_collection",
            Collected => "collected",
            Returned => "returned",
        }
    }

    pub fn from_key(key: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::Status::{self, *};

    #[test]
    fn exactly_these_transitions_are_legal() {
        let legal = [
            (Draft, Ready),
            (Ready, Draft),
            (Draft, Queued),
            (Ready, Queued),
            (Returned, Queued),
            (Queued, Draft),
            (Queued, Delivered),
            (Queued, Returned),
            (Delivered, Accepted),
            (Delivered, InProduction),
            (Delivered, Shipped),
            (Delivered, ReadyForCollection),
            (Delivered, Collected),
            (Delivered, Returned),
            (Accepted, InProduction),
            (Accepted, Shipped),
            (Accepted, ReadyForCollection),
            (Accepted, Collected),
            (Accepted, Returned),
            (InProduction, Shipped),
            (InProduction, ReadyForCollection),
            (InProduction, Collected),
            (InProduction, Returned),
            (Shipped, Collected),
            (ReadyForCollection, Collected),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                assert_eq!(
                    from.can_become(to),
                    legal.contains(&(from, to)),
                    "{from:?} → {to:?}"
                );
            }
        }
    }

    #[test]
    fn nothing_goes_back_once_delivered_except_by_return() {
        for to in [Draft, Ready, Queued] {
            for from in [Delivered, Accepted, InProduction, Shipped, Collected] {
                assert!(!from.can_become(to), "{from:?} → {to:?}");
            }
        }
        assert!(!Collected.can_become(Returned));
        assert!(!Draft.can_become(Draft), "no self transitions");
        assert!(
            !Draft.can_become(Delivered),
            "no delivery without the outbox"
        );
    }

    #[test]
    fn only_undelivered_work_is_deletable() {
        let deletable: Vec<_> = Status::ALL
            .into_iter()
            .filter(|s| s.is_deletable())
            .collect();
        assert_eq!(deletable, vec![Draft, Ready]);
    }

    #[test]
    fn keys_round_trip_and_match_serde() {
        for s in Status::ALL {
            assert_eq!(Status::from_key(s.key()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.key());
        }
    }
}
