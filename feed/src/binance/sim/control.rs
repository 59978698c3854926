//! Client control messages (`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`,
//! `SET_PROPERTY`, `GET_PROPERTY`) and their error codes, as Binance documents them:
//! 0 unknown property, 1 bad value type, 2 invalid request, 3 malformed JSON.

use serde_json::Value;
use tickd_normalizer::binance::encode::RequestId;

use super::routes::valid_stream_name;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    Subscribe(Vec<String>),
    Unsubscribe(Vec<String>),
    List,
    SetCombined(bool),
    GetCombined,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ControlError {
    pub code: i64,
    pub msg: String,
    pub id: Option<RequestId>,
}

fn err(code: i64, msg: &str, id: Option<&RequestId>) -> ControlError {
    ControlError {
        code,
        msg: msg.to_string(),
        id: id.cloned(),
    }
}

fn parse_id(v: Option<&Value>) -> Option<RequestId> {
    match v? {
        Value::Null => Some(RequestId::Null),
        Value::Number(n) => n.as_i64().map(RequestId::Int),
        Value::String(s) if s.len() <= 36 && s.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Some(RequestId::Str(s.clone()))
        }
        _ => None,
    }
}

fn stream_list(params: Option<&Value>, id: &RequestId) -> Result<Vec<String>, ControlError> {
    let Some(Value::Array(items)) = params else {
        return Err(err(
            2,
            "Invalid request: params must be an array of stream names",
            Some(id),
        ));
    };
    items
        .iter()
        .map(|v| match v {
            Value::String(s) if valid_stream_name(s) => Ok(s.clone()),
            Value::String(_) => Err(err(2, "Invalid request: invalid stream name", Some(id))),
            _ => Err(err(
                2,
                "Invalid request: stream names must be strings",
                Some(id),
            )),
        })
        .collect()
}

/// Parse one text frame from a client.
pub(crate) fn parse(text: &[u8]) -> Result<(RequestId, Op), ControlError> {
    let value: Value =
        serde_json::from_slice(text).map_err(|e| err(3, &format!("Invalid JSON: {e}"), None))?;
    let Value::Object(obj) = value else {
        return Err(err(2, "Invalid request: expected a JSON object", None));
    };
    let Some(id) = parse_id(obj.get("id")) else {
        return Err(err(
            2,
            "Invalid request: request ID must be an unsigned integer",
            None,
        ));
    };
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        return Err(err(2, "Invalid request: missing field `method`", Some(&id)));
    };
    let params = obj.get("params");
    let param_count = match params {
        None | Some(Value::Null) => 0,
        Some(Value::Array(a)) => a.len(),
        Some(_) => usize::MAX,
    };
    let op = match method {
        "SUBSCRIBE" => Op::Subscribe(stream_list(params, &id)?),
        "UNSUBSCRIBE" => Op::Unsubscribe(stream_list(params, &id)?),
        "LIST_SUBSCRIPTIONS" if param_count == 0 => Op::List,
        "SET_PROPERTY" | "GET_PROPERTY" => {
            let expected = if method == "SET_PROPERTY" { 2 } else { 1 };
            if param_count != expected {
                return Err(err(2, "Invalid request: wrong number of params", Some(&id)));
            }
            let arr = params.and_then(Value::as_array);
            let name = arr.and_then(|a| a.first());
            match name {
                Some(Value::String(n)) if n == "combined" => {}
                Some(Value::String(_)) => return Err(err(0, "Unknown property", Some(&id))),
                _ => {
                    return Err(err(
                        2,
                        "Invalid request: property name must be a string",
                        Some(&id),
                    ))
                }
            }
            if expected == 1 {
                Op::GetCombined
            } else {
                match arr.and_then(|a| a.get(1)) {
                    Some(Value::Bool(b)) => Op::SetCombined(*b),
                    _ => return Err(err(1, "Invalid value type: expected Boolean", Some(&id))),
                }
            }
        }
        "LIST_SUBSCRIPTIONS" => {
            return Err(err(2, "Invalid request: too many parameters", Some(&id)))
        }
        _ => return Err(err(2, "Invalid request: unknown method", Some(&id))),
    };
    Ok((id, op))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_error_codes() {
        let (id, op) = parse(
            br#"{"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@depth"],"id":1}"#,
        )
        .unwrap();
        assert_eq!(id, RequestId::Int(1));
        assert_eq!(
            op,
            Op::Subscribe(vec!["btcusdt@aggTrade".into(), "btcusdt@depth".into()])
        );
        assert_eq!(
            parse(br#"{"method":"LIST_SUBSCRIPTIONS","id":"abc"}"#)
                .unwrap()
                .1,
            Op::List
        );
        let code = |t: &[u8]| parse(t).unwrap_err().code;
        assert_eq!(code(b"{not json"), 3);
        assert_eq!(code(br#"{"method":"SUBSCRIBE","params":[]}"#), 2);
        assert_eq!(code(br#"{"method":"SUBSCRIBE","params":[],"id":"a-b"}"#), 2);
        assert_eq!(code(br#"{"method":"NOPE","id":1}"#), 2);
        assert_eq!(
            code(br#"{"method":"SET_PROPERTY","params":["x",true],"id":1}"#),
            0
        );
        assert_eq!(
            code(br#"{"method":"SET_PROPERTY","params":["combined",1],"id":1}"#),
            1
        );
        assert_eq!(code(br#"{"method":"SUBSCRIBE","params":[1],"id":1}"#), 2);
        assert_eq!(
            parse(br#"{"method":"GET_PROPERTY","params":["combined"],"id":null}"#)
                .unwrap()
                .1,
            Op::GetCombined
        );
    }
}
