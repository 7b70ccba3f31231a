//! The case lifecycle as data: which action moves a case from which state to which. Pure rules, no storage;
//! the store applies them inside its transactions. Who may ask for an action is in `policy.rs`.

use protocol::CaseState;

/// Actions of `POST /api/v1/cases/{case_no}/actions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

impl CaseAction {
    pub fn parse(s: &str) -> Option<CaseAction> {
        Some(match s {
            "dispatch" => CaseAction::Dispatch,
            "accept" => CaseAction::Accept,
            "return" => CaseAction::Return,
            "handle" => CaseAction::Handle,
            "close" => CaseAction::Close,
            "suspend" => CaseAction::Suspend,
            "resume" => CaseAction::Resume,
            "void" => CaseAction::Void,
            "extend" => CaseAction::Extend,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CaseAction::Dispatch => "dispatch",
            CaseAction::Accept => "accept",
            CaseAction::Return => "return",
            CaseAction::Handle => "handle",
            CaseAction::Close => "close",
            CaseAction::Suspend => "suspend",
            CaseAction::Resume => "resume",
            CaseAction::Void => "void",
            CaseAction::Extend => "extend",
        }
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
            _ => None,
        }
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
}
