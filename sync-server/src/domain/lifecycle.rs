//! The case lifecycle as data: which event moves a case from which state to which. Every change of a case
//! goes through `CaseEvent::next`, the console's actions (`CaseAction`) and the system's own steps alike
//! (filing, automatic dispatch, a finding fixed on the spot, another report merged in, verification passed or
//! failed, a verification task reassigned or cancelled). Pure rules, no storage; the store applies them inside
//! its transactions. Who may ask for an action is in `policy.rs`.

use protocol::CaseState;

/// Actions of `POST /api/v1/cases/{case_no}/actions`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CaseAction {
    /// 派遣 (or redispatch): send to a department.
    Dispatch,
    /// 签收: the department acknowledges.
    Accept,
    /// 回退: the department returns a misrouted case to the dispatcher.
    Return,
    /// 处置: the department reports the fix, with photos.
    Handle,
    /// 结案.
    Close,
    /// 挂账: parked; the deadline clock stops.
    Suspend,
    Resume,
    /// 作废.
    Void,
    /// 延期: moves the deadline, with a reason.
    Extend,
    /// 督办: the centre chases a case that slips, with a note; nothing else changes.
    Supervise,
    /// The department asks for more time (`hours`), with a reason; the dispatcher decides.
    RequestExtension,
    /// The department asks to return a misrouted case, with a reason; the dispatcher decides.
    RequestReturn,
    /// The dispatcher grants the pending request: the deadline moves, or the case returns.
    ApproveRequest,
    /// The dispatcher refuses the pending request; the case goes on as it was.
    DenyRequest,
}

impl CaseAction {
    /// Every action, in the order the console shows them (the way forward first, the way out last).
    pub const ALL: [CaseAction; 14] = [
        CaseAction::Accept,
        CaseAction::Handle,
        CaseAction::Close,
        CaseAction::Resume,
        CaseAction::ApproveRequest,
        CaseAction::DenyRequest,
        CaseAction::Return,
        CaseAction::RequestExtension,
        CaseAction::RequestReturn,
        CaseAction::Dispatch,
        CaseAction::Extend,
        CaseAction::Supervise,
        CaseAction::Suspend,
        CaseAction::Void,
    ];

    /// The department's requests, which wait for the dispatcher's decision.
    pub fn is_request(self) -> bool {
        matches!(self, CaseAction::RequestExtension | CaseAction::RequestReturn)
    }

    /// The dispatcher's decisions on a pending request.
    pub fn is_decision(self) -> bool {
        matches!(self, CaseAction::ApproveRequest | CaseAction::DenyRequest)
    }

    pub fn parse(s: &str) -> Option<CaseAction> {
        s.parse().ok()
    }

    /// The wire name (serde's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The state after the action, or `None` when the current state does not allow it. `resume` goes
    /// back to the state the case was suspended in.
    pub fn next(self, from: CaseState, suspended_from: Option<CaseState>) -> Option<CaseState> {
        use CaseState::*;
        match (self, from) {
            (CaseAction::Dispatch, Filed | Dispatched) => Some(Dispatched),
            (CaseAction::Accept, Dispatched) => Some(Accepted),
            (CaseAction::Return, Dispatched | Accepted) => Some(Filed),
            (CaseAction::Handle, Accepted) => Some(Handled),
            (CaseAction::Close, Handled) => Some(Closed),
            (CaseAction::Suspend, Filed | Dispatched | Accepted | Handled) => Some(Suspended),
            (CaseAction::Resume, Suspended) => Some(suspended_from.unwrap_or(Filed)),
            (CaseAction::Void, Filed | Dispatched | Accepted | Handled | Suspended) => Some(Voided),
            (CaseAction::Extend, Filed | Dispatched | Accepted | Suspended) => Some(from),
            (CaseAction::Supervise, Filed | Dispatched | Accepted | Handled | Suspended) => Some(from),
            // A request and its decision leave the state as it is; an approved return is a `return` after it.
            (
                CaseAction::RequestExtension
                | CaseAction::RequestReturn
                | CaseAction::ApproveRequest
                | CaseAction::DenyRequest,
                Dispatched | Accepted,
            ) => Some(from),
            _ => None,
        }
    }
}

/// The case's light (红黄绿灯) in the dispatcher's lists: red overdue, yellow once 80 % of the time from the start
/// of its clock (filing, moved on by the time it was suspended) to the deadline is used, green otherwise (and for
/// a case with no running deadline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    Green,
    Yellow,
    Red,
}

/// The part of the time limit after which a case shows yellow.
pub const YELLOW_AT: f64 = 0.8;

pub fn light(
    overdue: bool,
    clock_from: chrono::DateTime<chrono::Utc>,
    due: Option<chrono::DateTime<chrono::Utc>>,
    running: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Light {
    if overdue {
        return Light::Red;
    }
    match due {
        Some(due) if running && due > clock_from => {
            let used = (now - clock_from).num_seconds() as f64 / (due - clock_from).num_seconds() as f64;
            if used >= YELLOW_AT { Light::Yellow } else { Light::Green }
        }
        _ => Light::Green,
    }
}

/// Everything that happens to a case and is written in its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseEvent {
    /// 立案: a finding becomes a case.
    File,
    /// 自动派遣: a case of an `auto` category goes to its department at once (平台法定).
    AutoDispatch,
    /// 当场整改: a finding fixed on the spot closes its own case.
    SelfClose,
    /// Another report of an open case (合并).
    Merge,
    /// An action of the console.
    Act(CaseAction),
    /// 核查通过: the inspector found the problem fixed; the case closes.
    VerifyPass,
    /// 核查不通过: not fixed; the case goes back to the department (返工).
    VerifyFail,
    /// 改派: an open verification task goes to another inspector.
    TaskReassign,
    /// A verification task withdrawn; the case waits in `handled`.
    TaskCancel,
}

impl CaseEvent {
    /// The state after the event, or `None` when the case's state (`None`: no case yet) does not allow it.
    /// Merging, and changing a verification task, leave the state as it is.
    pub fn next(self, from: Option<CaseState>, suspended_from: Option<CaseState>) -> Option<CaseState> {
        use CaseState::*;
        match (self, from) {
            (CaseEvent::File, None) => Some(Filed),
            (CaseEvent::AutoDispatch, Some(Filed)) => Some(Dispatched),
            (CaseEvent::SelfClose, Some(Filed)) => Some(Closed),
            (CaseEvent::Merge, Some(s)) if s.is_open() => Some(s),
            (CaseEvent::Act(action), Some(s)) => action.next(s, suspended_from),
            (CaseEvent::VerifyPass, Some(Handled)) => Some(Closed),
            (CaseEvent::VerifyFail, Some(Handled)) => Some(Dispatched),
            (CaseEvent::TaskReassign | CaseEvent::TaskCancel, Some(s)) => Some(s),
            _ => None,
        }
    }

    /// The name the history stores (`case_history.action`), which the console labels.
    pub fn action(self) -> &'static str {
        match self {
            CaseEvent::File => "file",
            CaseEvent::AutoDispatch => CaseAction::Dispatch.as_str(),
            CaseEvent::SelfClose => CaseAction::Close.as_str(),
            CaseEvent::Merge => "merge",
            CaseEvent::Act(action) => action.as_str(),
            CaseEvent::VerifyPass | CaseEvent::VerifyFail => "verify",
            CaseEvent::TaskReassign => "task_reassign",
            CaseEvent::TaskCancel => "task_cancel",
        }
    }

    /// Whether the history keeps the states before and after (a merge names no state change).
    pub fn records_states(self) -> bool {
        self != CaseEvent::Merge
    }

    /// The event of a stored history entry, as far as its action and its state after tell (a dispatch by
    /// the system reads as the console's).
    pub fn of_history(action: &str, to: Option<CaseState>) -> Option<CaseEvent> {
        Some(match (action, to) {
            ("file", _) => CaseEvent::File,
            ("merge", _) => CaseEvent::Merge,
            ("verify", Some(CaseState::Closed)) => CaseEvent::VerifyPass,
            ("verify", _) => CaseEvent::VerifyFail,
            ("task_reassign", _) => CaseEvent::TaskReassign,
            ("task_cancel", _) => CaseEvent::TaskCancel,
            (other, _) => CaseEvent::Act(CaseAction::parse(other)?),
        })
    }
}

/// A case's deadline runs only while the case waits for handling.
pub fn deadline_applies(state: CaseState) -> bool {
    matches!(state, CaseState::Filed | CaseState::Dispatched | CaseState::Accepted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseState::*;

    #[test]
    fn the_whole_loop_and_its_refusals() {
        let walk = [
            (CaseAction::Dispatch, Filed, Dispatched),
            (CaseAction::Accept, Dispatched, Accepted),
            (CaseAction::Handle, Accepted, Handled),
            (CaseAction::Close, Handled, Closed),
        ];
        for (action, from, to) in walk {
            assert_eq!(action.next(from, None), Some(to), "{action:?} from {from:?}");
        }
        assert_eq!(CaseAction::Return.next(Accepted, None), Some(Filed));
        assert_eq!(CaseAction::Resume.next(Suspended, Some(Accepted)), Some(Accepted));
        for (action, from) in [
            (CaseAction::Accept, Filed),
            (CaseAction::Handle, Dispatched),
            (CaseAction::Close, Accepted),
            (CaseAction::Dispatch, Closed),
            (CaseAction::Void, Closed),
            (CaseAction::Resume, Dispatched),
            (CaseAction::Extend, Handled),
            (CaseAction::Suspend, Voided),
        ] {
            assert_eq!(action.next(from, None), None, "{action:?} from {from:?} must be refused");
        }
    }

    #[test]
    fn system_events_follow_the_same_rules() {
        assert_eq!(CaseEvent::File.next(None, None), Some(Filed));
        assert_eq!(CaseEvent::File.next(Some(Filed), None), None, "a case is filed once");
        assert_eq!(CaseEvent::AutoDispatch.next(Some(Filed), None), Some(Dispatched));
        assert_eq!(CaseEvent::SelfClose.next(Some(Filed), None), Some(Closed));
        assert_eq!(CaseEvent::SelfClose.next(Some(Dispatched), None), None);
        assert_eq!(CaseEvent::Merge.next(Some(Accepted), None), Some(Accepted));
        for closed in [Closed, Voided] {
            assert_eq!(CaseEvent::Merge.next(Some(closed), None), None, "no report joins a {closed:?} case");
        }
        assert_eq!(CaseEvent::VerifyPass.next(Some(Handled), None), Some(Closed));
        assert_eq!(CaseEvent::VerifyFail.next(Some(Handled), None), Some(Dispatched));
        assert_eq!(CaseEvent::VerifyPass.next(Some(Dispatched), None), None, "only a handled case is verified");
        assert_eq!(CaseEvent::TaskReassign.next(Some(Handled), None), Some(Handled));
        assert_eq!(CaseEvent::Act(CaseAction::Close).next(Some(Handled), None), Some(Closed));
        assert_eq!(CaseEvent::Act(CaseAction::Close).next(None, None), None);
    }

    #[test]
    fn a_stored_history_entry_reads_back_as_its_event() {
        let events = [
            (CaseEvent::File, Some(Filed)),
            (CaseEvent::Merge, None),
            (CaseEvent::VerifyPass, Some(Closed)),
            (CaseEvent::VerifyFail, Some(Dispatched)),
            (CaseEvent::TaskReassign, Some(Handled)),
            (CaseEvent::TaskCancel, Some(Handled)),
            (CaseEvent::Act(CaseAction::Handle), Some(Handled)),
            (CaseEvent::Act(CaseAction::Extend), Some(Accepted)),
        ];
        for (event, to) in events {
            assert_eq!(CaseEvent::of_history(event.action(), to), Some(event), "{event:?}");
        }
        // The system's steps are stored under the console's names.
        assert_eq!(
            CaseEvent::of_history(CaseEvent::AutoDispatch.action(), Some(Dispatched)),
            Some(CaseEvent::Act(CaseAction::Dispatch))
        );
        assert_eq!(CaseEvent::of_history("approve", Some(Filed)), None);
    }

    #[test]
    fn every_action_once_and_named_as_serde_names_it() {
        for action in CaseAction::ALL {
            assert_eq!(CaseAction::ALL.iter().filter(|a| **a == action).count(), 1);
            assert_eq!(serde_json::to_value(action).unwrap(), action.as_str());
            assert_eq!(CaseAction::parse(action.as_str()), Some(action));
        }
    }

    #[test]
    fn the_light_turns_yellow_at_four_fifths_of_the_time_and_red_when_late() {
        let filed: chrono::DateTime<chrono::Utc> = "2026-12-04T00:00:00Z".parse().unwrap();
        let due = filed + chrono::Duration::hours(10);
        let at = |h: i64| filed + chrono::Duration::hours(h);
        assert_eq!(light(false, filed, Some(due), true, at(7)), Light::Green);
        assert_eq!(light(false, filed, Some(due), true, at(8)), Light::Yellow);
        assert_eq!(light(true, filed, Some(due), true, at(11)), Light::Red);
        // Parked, closed or without a deadline: no clock running.
        assert_eq!(light(false, filed, Some(due), false, at(9)), Light::Green);
        assert_eq!(light(false, filed, None, true, at(9)), Light::Green);
    }
}
