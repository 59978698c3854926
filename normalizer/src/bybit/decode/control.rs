//! Frames without a `topic` (`bybit.md` §2, §3): subscribe/unsubscribe acks and
//! failures (`"success":false` with the reason in `ret_msg`; one reply per request),
//! the option/spread `COMMAND_RESP` form with `failTopics`, the pre-v5 ack that
//! echoes its `request`, and the three pong shapes.

use serde::Deserialize;

use crate::binance::decode::json;
use crate::engine::{ControlReply, VenueEvent};
use crate::error::DecodeError;

/// `"request":{"op":"subscribe","args":[..]}` in pre-v5 acks.
#[derive(Deserialize)]
pub(super) struct EchoedRequest {
    pub op: Option<String>,
}

/// The control fields of a frame.
pub(super) struct Reply<'a> {
    pub op: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub success: Option<bool>,
    pub ret_msg: Option<String>,
    pub req_id: Option<String>,
    pub data: Option<&'a [u8]>,
}

#[derive(Deserialize)]
struct CommandData {
    #[serde(rename = "failTopics", default)]
    fail_topics: Vec<String>,
}

pub(super) fn decode(reply: Reply<'_>) -> Result<VenueEvent<'static>, DecodeError> {
    let id = reply.req_id.as_deref().and_then(|id| id.parse().ok());
    match (reply.op, reply.kind, reply.success) {
        // The option/spread pong: `{"args":["<ms>"],"op":"pong"}`.
        (Some("pong"), _, _) => Ok(VenueEvent::Pong),
        // The spot and linear/inverse pongs: our `ping` answered.
        (Some("ping"), _, Some(true)) => Ok(VenueEvent::Pong),
        (_, Some("COMMAND_RESP"), Some(success)) => {
            let failed = match reply.data {
                Some(data) => json::sonic::<CommandData>(data)?.fail_topics,
                None => Vec::new(),
            };
            if success && failed.is_empty() {
                Ok(VenueEvent::Reply(ControlReply::Ack { id }))
            } else {
                Ok(rejected(id, reply.ret_msg, &failed))
            }
        }
        (Some(_), _, Some(true)) => Ok(VenueEvent::Reply(ControlReply::Ack { id })),
        (Some(_), _, Some(false)) => Ok(rejected(id, reply.ret_msg, &[])),
        // A client request (no `success`), or nothing Bybit sends.
        _ => Err(DecodeError::UnknownMessage),
    }
}

/// Bybit's failures carry no code, only `ret_msg` (`error:handler not found,topic:..`).
fn rejected(id: Option<u64>, msg: Option<String>, topics: &[String]) -> VenueEvent<'static> {
    let mut msg = msg.unwrap_or_default();
    if !topics.is_empty() {
        msg = format!("{msg} failTopics: {}", topics.join(","))
            .trim()
            .into();
    }
    VenueEvent::Reply(ControlReply::Rejected { id, code: 0, msg })
}
