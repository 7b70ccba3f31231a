//! Who may do what: the one place where the server matches roles.
//!
//! A handler asks once, `principal.may(verb, &target)`, in the contract's order: after what answers 404 and
//! 400/422, before what answers 409. A listing asks `principal.scope(listing)` for what the caller may see,
//! and the store takes that scope, never the principal. The rules, for every role:
//!
//! | verb | inspector 巡查员 | chief 中队长 | dispatcher 派遣员 | department 专业部门 | admin |
//! |---|---|---|---|---|---|
//! | review a finding (审核) | – | own team | yes | – | yes |
//! | read a case | own reports | own team | yes | own department | yes |
//! | dispatch, suspend, resume, extend | – | – | yes | – | yes |
//! | accept, return, handle | – | – | – | own department | yes |
//! | close, void | – | own team | yes | – | yes |
//! | reassign or cancel a verification task | – | own team | yes | – | yes |
//! | list teams and departments | – | – | yes | – | yes |
//! | users, devices, dictionary, teams, sync health | – | – | – | – | yes |
//!
//! "Own team" and "own department" need the user to have one, equal to the case's or finding's. The
//! listings: the review list, patrols and indicators show a chief the own team and the centre everything,
//! and are refused to others; cases show each role what it may read. A photo may be read by whoever
//! uploaded it, whoever may read a case it belongs to, the centre, a chief for a finding of the team, and an
//! inspector for an own finding or a case whose verification was given to them.

use protocol::{CaseState, Role};
use uuid::Uuid;

use crate::domain::lifecycle::CaseAction;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

/// What a caller asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Decide on a finding waiting for review (审核): approve, reject, merge.
    ReviewFinding,
    ReadCase,
    /// A lifecycle action of the console on a case.
    Act(CaseAction),
    /// Reassign (改派) or cancel an open verification task of a case.
    ChangeTask,
    ListTeams,
    ListDepartments,
    ListUsers,
    AddUser,
    ChangeUser,
    AddTeam,
    ListDevices,
    RevokeDevice,
    ImportDictionary,
    SeeSyncHealth,
    /// Read a photo (`GET /blobs/{sha256}`).
    ReadPhoto,
    /// Upload, replace or delete an offline base map package.
    ManageBasemaps,
    /// Define or change a campaign (每月一主题).
    ManageCampaigns,
    /// Take a report from another channel (受理), and read the reports.
    ReceiveReport,
    /// See a report's caller (name and phone): private to the centre's dispatcher and the admin.
    SeeContact,
    /// Give a free task (点名抽查, 领导交办) to an inspector; a chief to the own team's only.
    AssignTask,
    /// Read the audit log.
    SeeAuditLog,
    /// Run the retention rule now.
    RunRetention,
    /// Register, stop and watch webhooks and group robots; issue integration tokens.
    ManageIntegrations,
}

impl Verb {
    /// Every verb, for tests that walk the whole table.
    pub const ALL: [Verb; 36] = [
        Verb::ReviewFinding,
        Verb::ReadCase,
        Verb::Act(CaseAction::Dispatch),
        Verb::Act(CaseAction::Accept),
        Verb::Act(CaseAction::Return),
        Verb::Act(CaseAction::Handle),
        Verb::Act(CaseAction::Close),
        Verb::Act(CaseAction::Suspend),
        Verb::Act(CaseAction::Resume),
        Verb::Act(CaseAction::Void),
        Verb::Act(CaseAction::Extend),
        Verb::Act(CaseAction::Supervise),
        Verb::Act(CaseAction::RequestExtension),
        Verb::Act(CaseAction::RequestReturn),
        Verb::Act(CaseAction::ApproveRequest),
        Verb::Act(CaseAction::DenyRequest),
        Verb::ChangeTask,
        Verb::ListTeams,
        Verb::ListDepartments,
        Verb::ListUsers,
        Verb::AddUser,
        Verb::ChangeUser,
        Verb::AddTeam,
        Verb::ListDevices,
        Verb::RevokeDevice,
        Verb::ImportDictionary,
        Verb::SeeSyncHealth,
        Verb::ReadPhoto,
        Verb::ManageBasemaps,
        Verb::ManageCampaigns,
        Verb::ReceiveReport,
        Verb::SeeContact,
        Verb::AssignTask,
        Verb::SeeAuditLog,
        Verb::RunRetention,
        Verb::ManageIntegrations,
    ];

    /// What the verb does, for the answer that refuses it ("may not …").
    fn describe(self) -> String {
        match self {
            Verb::ReviewFinding => "review findings".into(),
            Verb::ReadCase => "read this case".into(),
            Verb::Act(action) => format!("{} this case", action.as_str()),
            Verb::ChangeTask => "change this verification task".into(),
            Verb::ListTeams => "list teams".into(),
            Verb::ListDepartments => "list departments".into(),
            Verb::ListUsers => "list users".into(),
            Verb::AddUser => "add users".into(),
            Verb::ChangeUser => "change users".into(),
            Verb::AddTeam => "add teams".into(),
            Verb::ListDevices => "list devices".into(),
            Verb::RevokeDevice => "revoke devices".into(),
            Verb::ImportDictionary => "import dictionaries".into(),
            Verb::SeeSyncHealth => "see sync health".into(),
            Verb::ReadPhoto => "read this photo".into(),
            Verb::ManageBasemaps => "manage base maps".into(),
            Verb::ManageCampaigns => "define campaigns".into(),
            Verb::ReceiveReport => "take or read reports".into(),
            Verb::SeeContact => "see a report's caller".into(),
            Verb::AssignTask => "give tasks to this inspector".into(),
            Verb::SeeAuditLog => "read the audit log".into(),
            Verb::RunRetention => "run the retention rule".into(),
            Verb::ManageIntegrations => "manage webhooks and integrations".into(),
        }
    }
}

/// What a verb is about: who owns it decides for chiefs, departments and inspectors.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// The server's own records: users, devices, teams, the dictionary.
    Server,
    Finding {
        team: Option<&'a str>,
    },
    Case {
        team: Option<&'a str>,
        department: Option<&'a str>,
        /// One of the case's findings was reported by the caller.
        reported_by_caller: bool,
    },
    Photo(&'a PhotoUse),
    /// A team's member (an inspector given a task).
    Team(Option<&'a str>),
}

/// Who owns a case, as seen from one caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseOwners {
    pub team: Option<String>,
    pub department: Option<String>,
    /// The case's first finding was reported by the caller.
    pub reported_by_caller: bool,
}

/// Where a photo is used, as seen from one caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhotoUse {
    pub uploaded_by_caller: bool,
    /// The cases it belongs to: through a finding, or a handling or verification step of their history.
    pub cases: Vec<CaseOwners>,
    pub in_a_finding: bool,
    /// In a finding of the caller's team.
    pub in_a_finding_of_team: bool,
    pub in_a_finding_of_caller: bool,
    /// In the history of a case whose verification task (核查) was given to the caller, or in a report whose
    /// 核实 task was.
    pub in_a_task_of_caller: bool,
    /// In a report from another channel, or in a free task's result: the centre's records.
    pub in_centre_records: bool,
}

/// The listings whose contents depend on who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// The day's findings for review (`GET /review`).
    Findings,
    Patrols,
    /// The evaluation indicators (`GET /stats`).
    Indicators,
    Cases,
    /// What the patrols walked (`GET /coverage`).
    Coverage,
    /// Where findings and cases cluster (`GET /heatmap`).
    Heatmap,
}

/// What of a listing a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// A team's (nothing when the user has no team).
    Team(Option<String>),
    /// A department's (nothing when the user has no department).
    Department(Option<String>),
    /// What the user reported.
    Reporter(Uuid),
}

/// Whether `owner` is the user's own team or department: both known and equal.
fn own(user: Option<&str>, owner: Option<&str>) -> bool {
    user.is_some() && user == owner
}

/// The roles that may ask for a case action at all; department users and chiefs are further limited to
/// their own department's or team's cases.
fn action_roles(action: CaseAction) -> &'static [Role] {
    match action {
        CaseAction::Dispatch
        | CaseAction::Suspend
        | CaseAction::Resume
        | CaseAction::Extend
        | CaseAction::Supervise
        | CaseAction::ApproveRequest
        | CaseAction::DenyRequest => &[Role::Dispatcher, Role::Admin],
        CaseAction::Accept
        | CaseAction::Return
        | CaseAction::Handle
        | CaseAction::RequestExtension
        | CaseAction::RequestReturn => &[Role::Department, Role::Admin],
        CaseAction::Close | CaseAction::Void => &[Role::Dispatcher, Role::Chief, Role::Admin],
    }
}

/// Whether a user of this role can be given a verification task (核查): it is done on the spot.
pub fn verifies_on_the_spot(role: Role) -> bool {
    matches!(role, Role::Inspector | Role::Chief)
}

impl Principal {
    /// Allows the verb on the target, or refuses it (403) saying why.
    pub fn may(&self, verb: Verb, target: &Target<'_>) -> AppResult<()> {
        let user = &self.user;
        let (team, department) = (user.team.as_deref(), user.department.as_deref());
        let by_role = match verb {
            Verb::ReviewFinding | Verb::ChangeTask | Verb::ReceiveReport | Verb::AssignTask => {
                matches!(user.role, Role::Chief | Role::Dispatcher | Role::Admin)
            }
            Verb::ReadCase | Verb::ReadPhoto => true,
            Verb::Act(action) => action_roles(action).contains(&user.role),
            Verb::ListTeams | Verb::ListDepartments | Verb::ManageCampaigns | Verb::SeeContact => {
                matches!(user.role, Role::Dispatcher | Role::Admin)
            }
            Verb::ListUsers
            | Verb::AddUser
            | Verb::ChangeUser
            | Verb::AddTeam
            | Verb::ListDevices
            | Verb::RevokeDevice
            | Verb::ImportDictionary
            | Verb::ManageBasemaps
            | Verb::SeeAuditLog
            | Verb::RunRetention
            | Verb::ManageIntegrations
            | Verb::SeeSyncHealth => user.role == Role::Admin,
        };
        if !by_role {
            return Err(AppError::forbidden(format!("role `{}` may not {}", user.role, verb.describe())));
        }
        let owned = match (user.role, target) {
            (_, Target::Photo(used)) => self.may_read_photo(used),
            (Role::Admin | Role::Dispatcher, _) | (_, Target::Server) => true,
            (Role::Chief, Target::Finding { team: owner } | Target::Case { team: owner, .. } | Target::Team(owner)) => {
                own(team, *owner)
            }
            (Role::Department, Target::Case { department: owner, .. }) => own(department, *owner),
            (Role::Inspector, Target::Case { reported_by_caller, .. }) => *reported_by_caller,
            (Role::Department | Role::Inspector, Target::Finding { .. } | Target::Team(_)) => false,
        };
        if owned {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "this belongs to another team or department: {} may not {}",
                user.role,
                verb.describe()
            )))
        }
    }

    /// Whoever uploaded a photo, and whoever may read a case it belongs to or a finding that shows it.
    fn may_read_photo(&self, used: &PhotoUse) -> bool {
        let in_case = used.cases.iter().any(|c| {
            let target = Target::Case {
                team: c.team.as_deref(),
                department: c.department.as_deref(),
                reported_by_caller: c.reported_by_caller,
            };
            self.may(Verb::ReadCase, &target).is_ok()
        });
        used.uploaded_by_caller
            || in_case
            || match self.user.role {
                Role::Admin | Role::Dispatcher => used.in_a_finding || used.in_centre_records,
                Role::Chief => used.in_a_finding_of_team || used.in_centre_records,
                Role::Inspector => used.in_a_finding_of_caller || used.in_a_task_of_caller,
                Role::Department => false,
            }
    }

    /// The actions of the console the caller may take on a case now: its state allows them and the policy
    /// gives them to the caller. In `CaseAction::ALL`'s order.
    pub fn case_actions(&self, state: CaseState, team: Option<&str>, department: Option<&str>) -> Vec<CaseAction> {
        let target = Target::Case { team, department, reported_by_caller: false };
        CaseAction::ALL
            .into_iter()
            .filter(|a| a.next(state, None).is_some() && self.may(Verb::Act(*a), &target).is_ok())
            .collect()
    }

    /// What of a listing the caller may see, or a refusal (403) for a listing not meant for the role.
    pub fn scope(&self, listing: Listing) -> AppResult<Scope> {
        let user = &self.user;
        match (listing, user.role) {
            (_, Role::Dispatcher | Role::Admin) => Ok(Scope::All),
            (_, Role::Chief) => Ok(Scope::Team(user.team.clone())),
            (Listing::Cases, Role::Department) => Ok(Scope::Department(user.department.clone())),
            (Listing::Cases, Role::Inspector) => Ok(Scope::Reporter(user.id)),
            (
                Listing::Findings | Listing::Patrols | Listing::Indicators | Listing::Coverage | Listing::Heatmap,
                role,
            ) => {
                let what = match listing {
                    Listing::Findings => "review findings",
                    Listing::Patrols => "see patrols",
                    Listing::Coverage => "see patrol coverage",
                    Listing::Heatmap => "see the heat map",
                    _ => "read statistics",
                };
                Err(AppError::forbidden(format!("role `{role}` may not {what}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::User;

    fn principal(role: Role, team: Option<&str>, department: Option<&str>) -> Principal {
        Principal {
            user: User {
                id: Uuid::nil(),
                username: "u".into(),
                display_name: "u".into(),
                role,
                team: team.map(str::to_owned),
                department: department.map(str::to_owned),
            },
            device_id: None,
            address: None,
            enrol_only: false,
        }
    }

    /// The callers of the table's columns: each role, chiefs and departments on their own records and on
    /// another's, an inspector on own reports and on another's, and a chief and a department without one.
    fn callers() -> Vec<(&'static str, Principal, bool)> {
        vec![
            ("inspector/own", principal(Role::Inspector, Some("一中队"), None), true),
            ("inspector/other", principal(Role::Inspector, Some("一中队"), None), false),
            ("chief/own", principal(Role::Chief, Some("一中队"), None), true),
            ("chief/other", principal(Role::Chief, Some("二中队"), None), true),
            ("chief/none", principal(Role::Chief, None, None), true),
            ("dispatcher", principal(Role::Dispatcher, None, None), false),
            ("department/own", principal(Role::Department, None, Some("HW")), false),
            ("department/other", principal(Role::Department, None, Some("SZ")), false),
            ("department/none", principal(Role::Department, None, None), false),
            ("admin", principal(Role::Admin, None, None), false),
        ]
    }

    /// The whole table: for each verb, the callers allowed on a record of 一中队 and department HW (`Y`),
    /// in the order of `callers()`.
    const TABLE: &str = "
        verb               insp/own insp/oth chief/own chief/oth chief/no disp dept/own dept/oth dept/no admin
        ReviewFinding      -        -        Y         -         -        Y    -        -        -       Y
        ReadCase           Y        -        Y         -         -        Y    Y        -        -       Y
        dispatch           -        -        -         -         -        Y    -        -        -       Y
        accept             -        -        -         -         -        -    Y        -        -       Y
        return             -        -        -         -         -        -    Y        -        -       Y
        handle             -        -        -         -         -        -    Y        -        -       Y
        close              -        -        Y         -         -        Y    -        -        -       Y
        suspend            -        -        -         -         -        Y    -        -        -       Y
        resume             -        -        -         -         -        Y    -        -        -       Y
        void               -        -        Y         -         -        Y    -        -        -       Y
        extend             -        -        -         -         -        Y    -        -        -       Y
        supervise          -        -        -         -         -        Y    -        -        -       Y
        request_extension  -        -        -         -         -        -    Y        -        -       Y
        request_return     -        -        -         -         -        -    Y        -        -       Y
        approve_request    -        -        -         -         -        Y    -        -        -       Y
        deny_request       -        -        -         -         -        Y    -        -        -       Y
        ChangeTask         -        -        Y         -         -        Y    -        -        -       Y
        ListTeams          -        -        -         -         -        Y    -        -        -       Y
        ListDepartments    -        -        -         -         -        Y    -        -        -       Y
        ListUsers          -        -        -         -         -        -    -        -        -       Y
        AddUser            -        -        -         -         -        -    -        -        -       Y
        ChangeUser         -        -        -         -         -        -    -        -        -       Y
        AddTeam            -        -        -         -         -        -    -        -        -       Y
        ListDevices        -        -        -         -         -        -    -        -        -       Y
        RevokeDevice       -        -        -         -         -        -    -        -        -       Y
        ImportDictionary   -        -        -         -         -        -    -        -        -       Y
        SeeSyncHealth      -        -        -         -         -        -    -        -        -       Y
        ReadPhoto          Y        -        Y         -         -        Y    Y        -        -       Y
        ManageBasemaps     -        -        -         -         -        -    -        -        -       Y
        ManageCampaigns    -        -        -         -         -        Y    -        -        -       Y
        ReceiveReport      -        -        Y         Y         Y        Y    -        -        -       Y
        SeeContact         -        -        -         -         -        Y    -        -        -       Y
        AssignTask         -        -        Y         -         -        Y    -        -        -       Y
        SeeAuditLog        -        -        -         -         -        -    -        -        -       Y
        RunRetention       -        -        -         -         -        -    -        -        -       Y
        ManageIntegrations -        -        -         -         -        -    -        -        -       Y
    ";

    fn verb_name(verb: Verb) -> String {
        match verb {
            Verb::Act(a) => a.as_str().to_owned(),
            other => format!("{other:?}"),
        }
    }

    /// The record a verb is tried on: a case (or finding) of 一中队 and HW, a photo of such a case's finding
    /// (`photo`, as seen from the caller), or the server's records.
    fn target(verb: Verb, reported_by_caller: bool, photo: &PhotoUse) -> Target<'_> {
        match verb {
            Verb::ReadPhoto => Target::Photo(photo),
            Verb::ReviewFinding => Target::Finding { team: Some("一中队") },
            Verb::AssignTask => Target::Team(Some("一中队")),
            Verb::ReadCase | Verb::Act(_) | Verb::ChangeTask => {
                Target::Case { team: Some("一中队"), department: Some("HW"), reported_by_caller }
            }
            _ => Target::Server,
        }
    }

    #[test]
    fn every_role_may_do_what_the_table_says_and_nothing_else() {
        let rows: Vec<Vec<&str>> =
            TABLE.lines().map(|l| l.split_whitespace().collect::<Vec<_>>()).filter(|r| !r.is_empty()).collect();
        let callers = callers();
        assert_eq!(rows[0].len(), callers.len() + 1, "one column per caller");
        assert_eq!(rows.len() - 1, Verb::ALL.len(), "one row per verb");
        let mut wrong = Vec::new();
        for verb in Verb::ALL {
            let row = rows.iter().find(|r| r[0] == verb_name(verb)).unwrap_or_else(|| panic!("no row {verb:?}"));
            for ((who, p, reported), cell) in callers.iter().zip(&row[1..]) {
                let photo = PhotoUse {
                    cases: vec![CaseOwners {
                        team: Some("一中队".into()),
                        department: Some("HW".into()),
                        reported_by_caller: *reported,
                    }],
                    in_a_finding: true,
                    in_a_finding_of_team: p.user.team.as_deref() == Some("一中队"),
                    in_a_finding_of_caller: *reported,
                    ..PhotoUse::default()
                };
                let allowed = p.may(verb, &target(verb, *reported, &photo)).is_ok();
                if allowed != (*cell == "Y") {
                    wrong.push(format!("{} / {who}: allowed {allowed}", verb_name(verb)));
                }
            }
        }
        assert!(wrong.is_empty(), "the policy differs from the table:\n{}", wrong.join("\n"));
    }

    #[test]
    fn a_refusal_is_a_403_that_names_the_verb() {
        let e = principal(Role::Inspector, None, None).may(Verb::ListUsers, &Target::Server).unwrap_err();
        assert_eq!(e.to_string(), AppError::forbidden("role `inspector` may not list users").to_string());
    }

    #[test]
    fn roles_and_ownership_of_case_actions() {
        let case = |team: Option<&'static str>, department: Option<&'static str>| Target::Case {
            team,
            department,
            reported_by_caller: false,
        };
        let hw = Some("HW");
        let may = |p: Principal, a: CaseAction, t: Target<'_>| p.may(Verb::Act(a), &t).is_ok();
        assert!(may(principal(Role::Department, None, hw), CaseAction::Accept, case(None, hw)));
        assert!(!may(principal(Role::Department, None, Some("SZ")), CaseAction::Accept, case(None, hw)));
        assert!(!may(principal(Role::Department, None, hw), CaseAction::Dispatch, case(None, hw)));
        assert!(may(principal(Role::Chief, Some("一中队"), None), CaseAction::Close, case(Some("一中队"), hw)));
        assert!(!may(principal(Role::Chief, Some("二中队"), None), CaseAction::Close, case(Some("一中队"), hw)));
        assert!(!may(principal(Role::Inspector, None, None), CaseAction::Handle, case(None, hw)));
        assert!(may(principal(Role::Admin, None, None), CaseAction::Handle, case(None, hw)));
        // A case with no team or department is no chief's or department's own.
        assert!(!may(principal(Role::Chief, Some("一中队"), None), CaseAction::Close, case(None, hw)));
        assert!(!may(principal(Role::Department, None, hw), CaseAction::Accept, case(None, None)));
    }

    #[test]
    fn photos_outside_cases() {
        let read = |p: &Principal, used: PhotoUse| p.may(Verb::ReadPhoto, &Target::Photo(&used)).is_ok();
        let chief = principal(Role::Chief, Some("一中队"), None);
        let inspector = principal(Role::Inspector, Some("一中队"), None);
        let department = principal(Role::Department, None, Some("HW"));
        let dispatcher = principal(Role::Dispatcher, None, None);
        // Uploaded, not yet in any finding: only the uploader.
        for p in [&chief, &inspector, &department, &dispatcher] {
            assert!(read(p, PhotoUse { uploaded_by_caller: true, ..PhotoUse::default() }));
            assert!(!read(p, PhotoUse::default()));
        }
        // A finding waiting for review: the centre, the team's chief, its reporter; no department.
        let waiting = |of_team: bool, of_caller: bool| PhotoUse {
            in_a_finding: true,
            in_a_finding_of_team: of_team,
            in_a_finding_of_caller: of_caller,
            ..PhotoUse::default()
        };
        assert!(read(&dispatcher, waiting(false, false)));
        assert!(read(&chief, waiting(true, false)));
        assert!(!read(&chief, waiting(false, false)));
        assert!(read(&inspector, waiting(true, true)));
        assert!(!read(&inspector, waiting(true, false)));
        assert!(!read(&department, waiting(false, false)));
        // A handling photo of a case another inspector reported, to verify (核查).
        assert!(read(&inspector, PhotoUse { in_a_task_of_caller: true, ..PhotoUse::default() }));
    }

    #[test]
    fn listings_show_each_role_its_part() {
        let chief = principal(Role::Chief, Some("一中队"), None);
        let department = principal(Role::Department, None, Some("HW"));
        let inspector = principal(Role::Inspector, None, None);
        for listing in [Listing::Findings, Listing::Patrols, Listing::Indicators, Listing::Cases] {
            assert_eq!(principal(Role::Admin, None, None).scope(listing).unwrap(), Scope::All);
            assert_eq!(principal(Role::Dispatcher, None, None).scope(listing).unwrap(), Scope::All);
            assert_eq!(chief.scope(listing).unwrap(), Scope::Team(Some("一中队".into())));
        }
        for listing in [Listing::Findings, Listing::Patrols, Listing::Indicators] {
            assert!(department.scope(listing).is_err());
            assert!(inspector.scope(listing).is_err());
        }
        assert_eq!(department.scope(Listing::Cases).unwrap(), Scope::Department(Some("HW".into())));
        assert_eq!(inspector.scope(Listing::Cases).unwrap(), Scope::Reporter(Uuid::nil()));
    }

    #[test]
    fn only_inspectors_and_chiefs_verify() {
        let verifying: Vec<Role> = [Role::Inspector, Role::Chief, Role::Dispatcher, Role::Department, Role::Admin]
            .into_iter()
            .filter(|r| verifies_on_the_spot(*r))
            .collect();
        assert_eq!(verifying, [Role::Inspector, Role::Chief]);
    }

    #[test]
    fn the_actions_a_case_offers_follow_its_state_and_the_caller() {
        let hw = principal(Role::Department, None, Some("HW"));
        let dispatcher = principal(Role::Dispatcher, None, None);
        let chief = principal(Role::Chief, Some("一中队"), None);
        let (team, department) = (Some("一中队"), Some("HW"));
        use CaseAction::*;
        assert_eq!(
            hw.case_actions(CaseState::Dispatched, team, department),
            [Accept, Return, RequestExtension, RequestReturn]
        );
        assert_eq!(hw.case_actions(CaseState::Dispatched, team, Some("SZ")), []);
        assert_eq!(
            dispatcher.case_actions(CaseState::Dispatched, team, department),
            [ApproveRequest, DenyRequest, Dispatch, Extend, Supervise, Suspend, Void]
        );
        assert_eq!(dispatcher.case_actions(CaseState::Suspended, team, department), [Resume, Extend, Supervise, Void]);
        assert_eq!(chief.case_actions(CaseState::Handled, team, department), [Close, Void]);
        assert_eq!(chief.case_actions(CaseState::Handled, Some("二中队"), department), []);
        for state in [CaseState::Closed, CaseState::Voided] {
            assert_eq!(principal(Role::Admin, None, None).case_actions(state, team, department), []);
        }
        assert_eq!(principal(Role::Inspector, None, None).case_actions(CaseState::Filed, team, department), []);
    }

    /// Every state × role, for a case of the caller's own team and department, as the console shows it.
    const ACTIONS: &str = "
        state       admin                                    dispatcher                    chief       department
        filed       dispatch,extend,supervise,suspend,void   dispatch,extend,supervise,suspend,void  void  -
        dispatched  accept,approve_request,deny_request,return,request_extension,request_return,dispatch,extend,supervise,suspend,void approve_request,deny_request,dispatch,extend,supervise,suspend,void void accept,return,request_extension,request_return
        accepted    handle,approve_request,deny_request,return,request_extension,request_return,extend,supervise,suspend,void approve_request,deny_request,extend,supervise,suspend,void void handle,return,request_extension,request_return
        handled     close,supervise,suspend,void             close,supervise,suspend,void  close,void  -
        suspended   resume,extend,supervise,void             resume,extend,supervise,void  void        -
        closed      -                                        -                             -           -
        voided      -                                        -                             -           -
    ";

    #[test]
    fn every_state_offers_each_role_what_the_lifecycle_and_the_policy_allow() {
        let callers = [
            principal(Role::Admin, None, None),
            principal(Role::Dispatcher, None, None),
            principal(Role::Chief, Some("一中队"), None),
            principal(Role::Department, None, Some("HW")),
        ];
        let rows: Vec<Vec<&str>> =
            ACTIONS.lines().map(|l| l.split_whitespace().collect()).filter(|r: &Vec<&str>| !r.is_empty()).collect();
        assert_eq!(rows.len() - 1, 7, "one row per state");
        for row in &rows[1..] {
            let state = CaseState::parse(row[0]).unwrap();
            for (caller, cell) in callers.iter().zip(&row[1..]) {
                let offered: Vec<&str> =
                    caller.case_actions(state, Some("一中队"), Some("HW")).iter().map(|a| a.as_str()).collect();
                let expected: Vec<&str> = if *cell == "-" { vec![] } else { cell.split(',').collect() };
                assert_eq!(offered, expected, "{} on a {} case", caller.user.role, row[0]);
            }
            // An inspector acts on no case from the console.
            assert!(
                principal(Role::Inspector, Some("一中队"), None)
                    .case_actions(state, Some("一中队"), Some("HW"))
                    .is_empty()
            );
        }
    }
}
