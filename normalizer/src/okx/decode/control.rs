//! `{"event":..}` frames (`okx.md` §2, §3): subscribe/unsubscribe acks (one per
//! arg), errors (`60011`, `60012`, `60018`, ...), the `64008` maintenance notice.

use sonic_rs::{JsonType, JsonValueTrait, LazyValue};

use super::fields::uint;
use super::Arg;
use crate::error::DecodeError;
use crate::okx::frame::OkxFrame;

pub(super) fn decode(
    event: &str,
    arg: Option<&Arg<'_>>,
    code: Option<&LazyValue<'_>>,
    msg: Option<String>,
    id: Option<String>,
) -> Result<OkxFrame<'static>, DecodeError> {
    match event {
        "subscribe" | "unsubscribe" => {
            let arg = arg.ok_or(DecodeError::MissingField { field: "arg" })?;
            let channel = arg
                .channel
                .ok_or(DecodeError::MissingField {
                    field: "arg.channel",
                })?
                .to_string();
            let target = arg
                .inst_id
                .or(arg.inst_type)
                .or(arg.inst_family)
                .unwrap_or_default()
                .to_string();
            Ok(if event == "subscribe" {
                OkxFrame::Subscribed { channel, target }
            } else {
                OkxFrame::Unsubscribed { channel, target }
            })
        }
        "error" => Ok(OkxFrame::Error {
            code: code_of(code)?,
            msg: msg.unwrap_or_default(),
            id,
        }),
        "notice" => Ok(OkxFrame::Notice {
            code: code_of(code)?,
        }),
        // `channel-conn-count` and other informational events.
        _ => Ok(OkxFrame::Event),
    }
}

/// `"code":"60018"` (OKX sends a string; a number is accepted too).
fn code_of(code: Option<&LazyValue<'_>>) -> Result<u32, DecodeError> {
    let code = code.ok_or(DecodeError::MissingField { field: "code" })?;
    let value = match code.get_type() {
        JsonType::String => uint(code.as_str().unwrap_or_default(), "code")?,
        JsonType::Number => code
            .as_u64()
            .ok_or(DecodeError::OutOfRange { field: "code" })?,
        _ => return Err(DecodeError::OutOfRange { field: "code" }),
    };
    u32::try_from(value).map_err(|_| DecodeError::OutOfRange { field: "code" })
}
