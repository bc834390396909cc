//! A request on its way to the server: the batch and where its answer goes.

use crate::Batch;
use flume::Sender;

/// One client request.
pub(crate) struct Request {
    pub(crate) batch: Batch,
    pub(crate) reply: Sender<Batch>,
}
