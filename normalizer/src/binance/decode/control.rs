//! Replies to control requests: `{"result":null,"id":N}` acks, `LIST_SUBSCRIPTIONS`
//! results, and `{"code":..,"msg":..,"id":..}` errors (some error shapes omit `id`).

use sonic_rs::{JsonType, JsonValueTrait, LazyValue};

use super::route::Probe;
use super::Decoded;
use crate::error::DecodeError;

/// A control reply from the top-level keys, or `None` if the frame is not one.
pub(crate) fn decode(probe: &Probe<'_>) -> Option<Result<Decoded, DecodeError>> {
    if probe.e.is_some() || probe.data.is_some() || probe.method.is_some() {
        return None;
    }
    if let Some(code) = probe.code {
        let id = match probe.id.as_ref().map(request_id).transpose() {
            Ok(id) => id.flatten(),
            Err(err) => return Some(Err(err)),
        };
        return Some(Ok(Decoded::ControlError {
            id,
            code,
            msg: probe.msg.clone().unwrap_or_default(),
        }));
    }
    let id = probe.id.as_ref()?;
    Some(reply(id, probe.result.as_ref()))
}

fn reply(id: &LazyValue<'_>, result: Option<&LazyValue<'_>>) -> Result<Decoded, DecodeError> {
    let id = request_id(id)?.ok_or(DecodeError::MissingField { field: "id" })?;
    match result {
        Some(result) if result.get_type() == JsonType::Array => {
            let streams: Vec<String> =
                sonic_rs::from_str(result.as_raw_str()).map_err(DecodeError::json)?;
            Ok(Decoded::SubscriptionList { id, streams })
        }
        // `null` (SUBSCRIBE/UNSUBSCRIBE/SET_PROPERTY) or a property value
        // (GET_PROPERTY): an acknowledgement of request `id`.
        _ => Ok(Decoded::Subscribed { id }),
    }
}

/// The echoed request id: tickd sends unsigned integers; `null` is "no id".
fn request_id(value: &LazyValue<'_>) -> Result<Option<u64>, DecodeError> {
    match value.get_type() {
        JsonType::Null => Ok(None),
        JsonType::Number => value
            .as_u64()
            .map(Some)
            .ok_or(DecodeError::OutOfRange { field: "id" }),
        JsonType::String => value
            .as_str()
            .and_then(|text| text.parse::<u64>().ok())
            .map(Some)
            .ok_or(DecodeError::OutOfRange { field: "id" }),
        _ => Err(DecodeError::OutOfRange { field: "id" }),
    }
}
