//! Replay persistence: finished games in chunk files, each written atomically.
//!
//! # Format (little endian)
//! `AZREPLAY`, version `u32`, game name (`u16` length + UTF-8), `NUM_ACTIONS` `u32`,
//! game count `u32`; per game: move count `u32`, moves as `u16` policy indices,
//! policy targets (`moves × NUM_ACTIONS` `f32`), root values (`moves` `f32`),
//! outcome `i8` (1 first wins, -1 second wins, 0 draw), resigned `i8` and
//! would-have-resigned `i8` (-1 none, 0 first, 1 second), resign-disabled `u8`,
//! and (version 2) the origin: `u8` 0 for a game played in this process, or 1
//! followed by the actor `u64`, its game number `u64` and the weights step `u64`,
//! and (version 3) the random opening's length `u16` (moves played at random
//! before the first searched one); then the CRC-32 of everything before it.
//! Versions 1 (no origin) and 2 (no random opening) are read. A file is written
//! to `*.tmp` and renamed into place, so a run killed at any moment leaves only
//! whole chunks.

use crate::ReplayBuffer;
use az_game::{Game, Outcome, Player};
use az_record::remote::{GameId, Origin};
use az_record::{GameRecord, write_atomic};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"AZREPLAY";
const VERSION: u32 = 3;

/// A replay file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is truncated, damaged or of another game.
    #[error("{path}: not a usable replay chunk: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

fn player_code(p: Option<Player>) -> i8 {
    match p {
        None => -1,
        Some(Player::First) => 0,
        Some(Player::Second) => 1,
    }
}

fn code_player(c: i8) -> Option<Option<Player>> {
    match c {
        -1 => Some(None),
        0 => Some(Some(Player::First)),
        1 => Some(Some(Player::Second)),
        _ => None,
    }
}

/// Serialises `games` into one chunk.
pub fn encode_chunk<G: Game>(games: &[GameRecord<G>]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&VERSION.to_le_bytes());
    b.extend_from_slice(&(G::NAME.len() as u16).to_le_bytes());
    b.extend_from_slice(G::NAME.as_bytes());
    b.extend_from_slice(&(G::NUM_ACTIONS as u32).to_le_bytes());
    b.extend_from_slice(&(games.len() as u32).to_le_bytes());
    for g in games {
        b.extend_from_slice(&(g.moves.len() as u32).to_le_bytes());
        let mut position = G::new();
        for &mv in &g.moves {
            b.extend_from_slice(&(position.move_index(mv) as u16).to_le_bytes());
            position.apply_unchecked(mv);
        }
        for x in g.policies.iter().chain(&g.root_values) {
            b.extend_from_slice(&x.to_le_bytes());
        }
        b.push(match g.outcome {
            Outcome::Win(Player::First) => 1,
            Outcome::Win(Player::Second) => (-1i8) as u8,
            Outcome::Draw => 0,
        });
        b.push(player_code(g.resigned) as u8);
        b.push(player_code(g.would_have_resigned) as u8);
        b.push(u8::from(g.resign_disabled));
        match g.origin {
            None => b.push(0),
            Some(o) => {
                b.push(1);
                for x in [o.id.actor, o.id.seq, o.weights_step] {
                    b.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
        let random = u16::try_from(g.random_plies).expect("a random opening fits a u16");
        b.extend_from_slice(&random.to_le_bytes());
    }
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("truncated at byte {} (needs {n} more)", self.at))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn f32s(&mut self, n: usize, out: &mut Vec<f32>) -> Result<(), String> {
        let raw = self.take(n.checked_mul(4).ok_or("length overflow")?)?;
        out.extend(
            raw.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))),
        );
        Ok(())
    }
}

/// Reads one chunk's games.
///
/// # Errors
/// [`ReplayError::Corrupt`] for a truncated, damaged or foreign file (the
/// checksum is verified before anything is interpreted).
pub fn decode_chunk<G: Game>(bytes: &[u8], path: &Path) -> Result<Vec<GameRecord<G>>, ReplayError> {
    let corrupt = |reason: String| ReplayError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    if bytes.len() < MAGIC.len() + 4 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(corrupt("does not start with AZREPLAY".to_owned()));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
        return Err(corrupt(
            "checksum mismatch (truncated or damaged)".to_owned(),
        ));
    }
    let mut r = Reader {
        bytes: body,
        at: MAGIC.len(),
    };
    let version = r.u32().map_err(corrupt)?;
    if !(1..=VERSION).contains(&version) {
        return Err(corrupt(format!(
            "format version {version}, this az reads 1 to {VERSION}"
        )));
    }
    let name_len = r.u16().map_err(corrupt)? as usize;
    let name = String::from_utf8_lossy(r.take(name_len).map_err(corrupt)?).into_owned();
    if name != G::NAME {
        return Err(corrupt(format!("holds {name} games, not {}", G::NAME)));
    }
    let actions = r.u32().map_err(corrupt)? as usize;
    if actions != G::NUM_ACTIONS {
        return Err(corrupt(format!(
            "{actions} actions per policy, {} expected",
            G::NUM_ACTIONS
        )));
    }
    let count = r.u32().map_err(corrupt)? as usize;
    let mut games = Vec::with_capacity(count.min(1 << 16));
    for gi in 0..count {
        let n = r.u32().map_err(corrupt)? as usize;
        if n > G::MAX_GAME_LENGTH {
            return Err(corrupt(format!(
                "game {gi} has {n} moves, more than a game can have"
            )));
        }
        let mut position = G::new();
        let mut moves = Vec::with_capacity(n);
        for ply in 0..n {
            let index = r.u16().map_err(corrupt)? as usize;
            let mv = position
                .index_move(index)
                .filter(|&m| position.is_legal(m))
                .ok_or_else(|| {
                    corrupt(format!(
                        "game {gi} move {}: index {index} is not legal",
                        ply + 1
                    ))
                })?;
            position.apply_unchecked(mv);
            moves.push(mv);
        }
        let mut policies = Vec::new();
        r.f32s(n * G::NUM_ACTIONS, &mut policies).map_err(corrupt)?;
        let mut root_values = Vec::new();
        r.f32s(n, &mut root_values).map_err(corrupt)?;
        let outcome = match r.u8().map_err(corrupt)? as i8 {
            1 => Outcome::Win(Player::First),
            -1 => Outcome::Win(Player::Second),
            0 => Outcome::Draw,
            x => return Err(corrupt(format!("game {gi}: outcome code {x}"))),
        };
        let bad = |what: &str| corrupt(format!("game {gi}: bad {what} code"));
        let resigned =
            code_player(r.u8().map_err(corrupt)? as i8).ok_or_else(|| bad("resigned"))?;
        let would =
            code_player(r.u8().map_err(corrupt)? as i8).ok_or_else(|| bad("would-resign"))?;
        let resign_disabled = r.u8().map_err(corrupt)? != 0;
        let origin = if version >= 2 {
            read_origin(&mut r).map_err(corrupt)?
        } else {
            None
        };
        let random_plies = if version >= 3 {
            r.u16().map_err(corrupt)? as usize
        } else {
            0
        };
        if random_plies > n {
            return Err(corrupt(format!(
                "game {gi}: a random opening of {random_plies} moves in a game of {n}"
            )));
        }
        games.push(GameRecord {
            moves,
            policies,
            root_values,
            outcome,
            random_plies,
            resigned,
            resign_disabled,
            would_have_resigned: would,
            worker: 0,
            game_index: gi as u64,
            origin,
        });
    }
    if r.at != body.len() {
        return Err(corrupt(format!(
            "{} bytes after the last game",
            body.len() - r.at
        )));
    }
    Ok(games)
}

fn read_origin(r: &mut Reader<'_>) -> Result<Option<Origin>, String> {
    match r.u8()? {
        0 => Ok(None),
        1 => {
            let id = GameId {
                actor: r.u64()?,
                seq: r.u64()?,
            };
            let weights_step = r.u64()?;
            Ok(Some(Origin { id, weights_step }))
        }
        x => Err(format!("origin code {x}")),
    }
}

/// Chunk files of a replay folder and the games not yet written.
///
/// It also knows the ids of the remote games (those with an
/// [`origin`](GameRecord::origin)) in its chunks and queue, so that a learner
/// can refuse a game delivered twice — even across a restart, as long as the
/// chunk holding it is in the window.
#[derive(Debug)]
pub struct ReplayStore<G: Game> {
    dir: PathBuf,
    pending: Vec<GameRecord<G>>,
    /// The chunks on disk, oldest first.
    chunks: Vec<Chunk>,
    /// Ids of the remote games on disk or queued.
    ids: HashSet<GameId>,
}

/// A chunk file on disk.
#[derive(Debug)]
struct Chunk {
    seq: u64,
    positions: usize,
    /// Ids of its remote games.
    ids: Vec<GameId>,
}

impl Chunk {
    fn new<G: Game>(seq: u64, games: &[GameRecord<G>]) -> Self {
        Chunk {
            seq,
            positions: games.iter().map(GameRecord::len).sum(),
            ids: games
                .iter()
                .filter_map(|g| g.origin.map(|o| o.id))
                .collect(),
        }
    }
}

impl<G: Game> ReplayStore<G> {
    /// Opens (creating) `dir`, reads every chunk in order into `buffer`, and
    /// deletes chunks wholly outside the window. Leftover `*.tmp` files (a write
    /// cut short) are removed.
    ///
    /// # Errors
    /// [`ReplayError`] naming the first unreadable file.
    pub fn open(dir: &Path, buffer: &mut ReplayBuffer<G>) -> Result<Self, ReplayError> {
        let io = |source| ReplayError::Io {
            path: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.ends_with(".tmp") {
                let _ = std::fs::remove_file(&path);
            } else if let Some(seq) = name
                .strip_prefix("chunk-")
                .and_then(|s| s.strip_suffix(".azr"))
                .and_then(|s| s.parse::<u64>().ok())
            {
                found.push((seq, path));
            }
        }
        found.sort();
        let mut store = ReplayStore {
            dir: dir.to_owned(),
            pending: Vec::new(),
            chunks: Vec::new(),
            ids: HashSet::new(),
        };
        for (seq, path) in found {
            let bytes = std::fs::read(&path).map_err(|source| ReplayError::Io {
                path: path.clone(),
                source,
            })?;
            let games = decode_chunk::<G>(&bytes, &path)?;
            games.iter().for_each(|g| buffer.add_game(g));
            let chunk = Chunk::new(seq, &games);
            store.ids.extend(&chunk.ids);
            store.chunks.push(chunk);
        }
        store.prune(buffer.capacity())?;
        Ok(store)
    }

    /// Chunk files on disk.
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// Games waiting for the next [`flush`](ReplayStore::flush).
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Whether the remote game `id` is in a chunk on disk or queued.
    pub fn contains(&self, id: &GameId) -> bool {
        self.ids.contains(id)
    }

    /// Queues a finished game for the next chunk.
    pub fn push(&mut self, game: GameRecord<G>) {
        if let Some(o) = game.origin {
            self.ids.insert(o.id);
        }
        self.pending.push(game);
    }

    /// Writes the queued games as one new chunk (nothing if none), then deletes
    /// chunks that hold only positions older than a window of `capacity`.
    ///
    /// # Errors
    /// [`ReplayError::Io`] naming the file; the queued games stay queued.
    pub fn flush(&mut self, capacity: usize) -> Result<(), ReplayError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let seq = self.chunks.last().map_or(0, |c| c.seq + 1);
        let path = self.dir.join(format!("chunk-{seq:010}.azr"));
        write_atomic(&path, &encode_chunk(&self.pending)).map_err(|e| ReplayError::Io {
            path: e.path,
            source: e.source,
        })?;
        self.chunks.push(Chunk::new(seq, &self.pending));
        self.pending.clear();
        self.prune(capacity)
    }

    fn prune(&mut self, capacity: usize) -> Result<(), ReplayError> {
        let mut total: usize = self.chunks.iter().map(|c| c.positions).sum();
        while let Some(first) = self.chunks.first() {
            if total - first.positions < capacity {
                break;
            }
            let path = self.dir.join(format!("chunk-{:010}.azr", first.seq));
            std::fs::remove_file(&path).map_err(|source| ReplayError::Io { path, source })?;
            total -= first.positions;
            for id in &first.ids {
                self.ids.remove(id);
            }
            self.chunks.remove(0);
        }
        Ok(())
    }
}
