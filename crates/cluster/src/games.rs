//! A shipped game as a stream message and back: the headers and the payload.

use async_nats::HeaderMap;
use async_nats::jetstream::message::PublishMessage;
use az_record::remote::{GameId, Shipped};
use bytes::Bytes;

/// The de-duplication key: [`GameId`]'s `Display`, `{actor:016x}-{seq}`.
pub const HEADER_ID: &str = "Nats-Msg-Id";
/// `Game::NAME` of the game.
pub const HEADER_GAME: &str = "Az-Game";
/// The weights step that played it.
pub const HEADER_STEP: &str = "Az-Step";
/// Positions in the games.
pub const HEADER_POSITIONS: &str = "Az-Positions";
/// Games in the message (absent: 1).
pub const HEADER_GAMES: &str = "Az-Games";

/// The message of `game` (cheap to clone for a retry: the payload is shared).
pub(crate) fn to_message(game: Shipped) -> PublishMessage {
    let mut headers = HeaderMap::new();
    headers.insert(HEADER_ID, game.id.to_string());
    headers.insert(HEADER_GAME, game.game);
    headers.insert(HEADER_STEP, game.weights_step.to_string());
    headers.insert(HEADER_POSITIONS, game.positions.to_string());
    headers.insert(HEADER_GAMES, game.games.to_string());
    PublishMessage::build()
        .headers(headers)
        .payload(Bytes::from(game.payload))
}

/// The game in a stream message, or what is wrong with its headers.
pub(crate) fn from_message(message: &async_nats::Message) -> Result<Shipped, String> {
    let headers = message.headers.as_ref().ok_or("no headers")?;
    let header = |name: &str| {
        headers
            .get(name)
            .map(|value| value.as_str().to_owned())
            .ok_or_else(|| format!("no {name} header"))
    };
    let number = |name: &str| {
        header(name)?
            .parse::<u64>()
            .map_err(|error| format!("header {name}: {error}"))
    };
    let id = header(HEADER_ID)?;
    let games = match headers.get(HEADER_GAMES) {
        None => 1,
        Some(_) => u32::try_from(number(HEADER_GAMES)?)
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| format!("header {HEADER_GAMES}: not a count of games"))?,
    };
    Ok(Shipped {
        games,
        id: parse_id(&id).ok_or_else(|| format!("header {HEADER_ID} {id:?} is no game id"))?,
        game: header(HEADER_GAME)?,
        weights_step: number(HEADER_STEP)?,
        positions: u32::try_from(number(HEADER_POSITIONS)?)
            .map_err(|error| format!("header {HEADER_POSITIONS}: {error}"))?,
        payload: message.payload.to_vec(),
    })
}

/// The inverse of [`GameId`]'s `Display`.
pub(crate) fn parse_id(text: &str) -> Option<GameId> {
    let (actor, seq) = text.split_once('-')?;
    if actor.len() != 16 {
        return None;
    }
    Some(GameId {
        actor: u64::from_str_radix(actor, 16).ok()?,
        seq: seq.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let id = GameId {
            actor: 0xdead_beef_0123_4567,
            seq: 42,
        };
        assert_eq!(parse_id(&id.to_string()), Some(id));
        let small = GameId { actor: 7, seq: 0 };
        assert_eq!(parse_id(&small.to_string()), Some(small));
        assert_eq!(parse_id("7-0"), None);
        assert_eq!(parse_id("000000000000000g-0"), None);
    }
}
