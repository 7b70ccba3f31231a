//! `/api/v1/campaigns`: themed campaigns (每月一主题), read by every signed-in user, defined by the centre.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use protocol::Campaign;
use serde::Serialize;

use super::read_json;
use crate::error::{AppError, AppResult};
use crate::policy::{Target, Verb};
use crate::principal::Principal;
use crate::state::AppState;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CampaignList {
    campaigns: Vec<Campaign>,
}

/// `GET /api/v1/campaigns`.
pub async fn list(State(state): State<AppState>, _p: Principal) -> AppResult<Json<CampaignList>> {
    let campaigns = state.blocking(|s| s.campaigns()).await?;
    Ok(Json(CampaignList { campaigns }))
}

/// `POST /api/v1/campaigns` (dispatcher, admin): defines a campaign, or changes the one of that id; 201 when
/// new, 200 when replaced. Its categories and grids must be the dictionary's.
pub async fn save(State(state): State<AppState>, principal: Principal, body: Body) -> AppResult<Response> {
    principal.may(Verb::ManageCampaigns, &Target::Server)?;
    let mut campaign: Campaign = read_json(body).await?;
    campaign.name = campaign.name.trim().to_owned();
    campaign.validate()?;
    let dictionary =
        state.blocking(|s| s.dictionary()).await?.ok_or_else(|| AppError::conflict("there is no dictionary yet"))?;
    if let Some((i, code)) = campaign.categories.iter().enumerate().find(|(_, c)| dictionary.category(c).is_none()) {
        return Err(AppError::invalid(
            format!("categories[{i}]"),
            format!("`{code}` is not a category of the dictionary"),
        ));
    }
    if let Some((i, code)) =
        campaign.grids.iter().enumerate().find(|(_, g)| !dictionary.grids.iter().any(|x| &x.code == *g))
    {
        return Err(AppError::invalid(format!("grids[{i}]"), format!("`{code}` is not a grid of the dictionary")));
    }
    let by = principal.user.username.clone();
    let saved = campaign.clone();
    let created = state.blocking(move |s| s.save_campaign(&saved, &by, Utc::now())).await?;
    state.audit(principal.audit("campaign.save", campaign.id.clone())).await;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(campaign)).into_response())
}
