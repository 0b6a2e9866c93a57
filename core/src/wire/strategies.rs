//! proptest strategies for every type that crosses the wire.

use bytes::Bytes;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;

use crate::ids::{LogIndex, NodeId, Term};
use crate::node::{ClientError, ClientRequest, ClientResponse, Consistency};
use crate::raft::{
    AppendRequest, AppendResponse, AppendResult, Entry, EntryPayload, Membership, Message,
    ServerInfo, SnapshotChunk, SnapshotChunkResponse, SnapshotMeta, Suffrage, VoteRequest,
    VoteResponse,
};
use crate::state::catalog::types::{
    CatalogCommand, CatalogCommandResult, CatalogError, CatalogQuery, CatalogQueryResult,
    Deregistration,
};
use crate::state::kv_types::{KvCommand, KvCommandResult, KvEntry, KvQuery, KvQueryResult};
use crate::state::{Command, CommandResult, Query, QueryResult};
use crate::wire::{Body, Envelope};

fn term() -> impl Strategy<Value = Term> {
    any::<u64>().prop_map(Term)
}

fn index() -> impl Strategy<Value = LogIndex> {
    any::<u64>().prop_map(LogIndex)
}

fn bytes() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..64).prop_map(Bytes::from)
}

fn membership() -> impl Strategy<Value = Membership> {
    let server = (
        ".{0,16}",
        prop_oneof![Just(Suffrage::Voter), Just(Suffrage::Learner)],
    )
        .prop_map(|(addr, suffrage)| ServerInfo { addr, suffrage });
    btree_map(any::<u64>().prop_map(NodeId), server, 0..5)
        .prop_map(|servers| Membership { servers })
}

fn entry() -> impl Strategy<Value = Entry> {
    let payload = prop_oneof![
        Just(EntryPayload::Blank),
        bytes().prop_map(EntryPayload::Command),
        membership().prop_map(EntryPayload::Membership),
    ];
    (index(), term(), payload).prop_map(|(index, term, payload)| Entry {
        index,
        term,
        payload,
    })
}

fn snapshot_meta() -> impl Strategy<Value = SnapshotMeta> {
    (index(), term(), membership()).prop_map(|(last_index, last_term, membership)| SnapshotMeta {
        last_index,
        last_term,
        membership,
    })
}

fn vote_request() -> impl Strategy<Value = VoteRequest> {
    (term(), index(), term(), any::<bool>()).prop_map(
        |(term, last_log_index, last_log_term, transfer)| VoteRequest {
            term,
            last_log_index,
            last_log_term,
            transfer,
        },
    )
}

fn vote_response() -> impl Strategy<Value = VoteResponse> {
    (term(), any::<bool>()).prop_map(|(term, granted)| VoteResponse { term, granted })
}

fn append_request() -> impl Strategy<Value = AppendRequest> {
    (
        term(),
        index(),
        term(),
        vec(entry(), 0..4),
        index(),
        any::<u64>(),
    )
        .prop_map(
            |(term, prev_log_index, prev_log_term, entries, leader_commit, round)| AppendRequest {
                term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                round,
            },
        )
}

fn append_response() -> impl Strategy<Value = AppendResponse> {
    let result = prop_oneof![
        index().prop_map(|match_index| AppendResult::Success { match_index }),
        (index(), proptest::option::of(term()), index()).prop_map(
            |(last_index, conflict_term, conflict_index)| AppendResult::Conflict {
                last_index,
                conflict_term,
                conflict_index,
            }
        ),
    ];
    (term(), any::<u64>(), result).prop_map(|(term, round, result)| AppendResponse {
        term,
        round,
        result,
    })
}

fn snapshot_chunk() -> impl Strategy<Value = SnapshotChunk> {
    (
        term(),
        snapshot_meta(),
        any::<u64>(),
        bytes(),
        any::<bool>(),
    )
        .prop_map(|(term, meta, offset, data, done)| SnapshotChunk {
            term,
            meta,
            offset,
            data,
            done,
        })
}

fn snapshot_chunk_response() -> impl Strategy<Value = SnapshotChunkResponse> {
    (term(), index(), any::<u64>(), any::<bool>()).prop_map(
        |(term, last_index, next_offset, done)| SnapshotChunkResponse {
            term,
            last_index,
            next_offset,
            done,
        },
    )
}

/// Any Raft message.
pub(crate) fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        vote_request().prop_map(Message::PreVote),
        vote_response().prop_map(Message::PreVoteResponse),
        vote_request().prop_map(Message::Vote),
        vote_response().prop_map(Message::VoteResponse),
        append_request().prop_map(Message::Append),
        append_response().prop_map(Message::AppendResponse),
        snapshot_chunk().prop_map(Message::InstallSnapshot),
        snapshot_chunk_response().prop_map(Message::InstallSnapshotResponse),
        term().prop_map(|term| Message::TimeoutNow { term }),
    ]
}

/// Any envelope.
pub(crate) fn envelope() -> impl Strategy<Value = Envelope> {
    (any::<u64>(), any::<u64>(), message()).prop_map(|(from, to, msg)| Envelope {
        from: NodeId(from),
        to: NodeId(to),
        body: Body::Raft(msg),
    })
}

fn kv_command() -> impl Strategy<Value = KvCommand> {
    prop_oneof![
        (".{0,8}", bytes(), any::<u64>()).prop_map(|(key, value, flags)| KvCommand::Set {
            key,
            value,
            flags
        }),
        (".{0,8}", bytes(), any::<u64>(), any::<u64>()).prop_map(|(key, value, flags, index)| {
            KvCommand::Cas {
                key,
                value,
                flags,
                index,
            }
        }),
        ".{0,8}".prop_map(|key| KvCommand::Delete { key }),
    ]
}

fn catalog_command() -> impl Strategy<Value = CatalogCommand> {
    (
        ".{0,8}",
        proptest::option::of(".{0,8}"),
        proptest::option::of(".{0,8}"),
    )
        .prop_map(|(node, service_id, check_id)| {
            CatalogCommand::Deregister(Deregistration {
                node,
                service_id,
                check_id,
            })
        })
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        kv_command().prop_map(Command::Kv),
        catalog_command().prop_map(Command::Catalog),
    ]
}

pub(crate) fn client_request() -> impl Strategy<Value = ClientRequest> {
    let consistency = prop_oneof![
        Just(Consistency::Default),
        Just(Consistency::Consistent),
        Just(Consistency::Stale),
    ];
    let query = prop_oneof![
        ".{0,8}".prop_map(|key| Query::Kv(KvQuery::Get { key })),
        (".{0,8}", proptest::option::of(".{0,2}"))
            .prop_map(|(prefix, separator)| Query::Kv(KvQuery::Keys { prefix, separator })),
        ".{0,8}".prop_map(|node| Query::Catalog(CatalogQuery::NodeServices { node })),
    ];
    prop_oneof![
        command().prop_map(ClientRequest::Write),
        (query, consistency)
            .prop_map(|(query, consistency)| ClientRequest::Read { query, consistency }),
    ]
}

fn kv_entry() -> impl Strategy<Value = KvEntry> {
    (
        ".{0,8}",
        any::<[u64; 4]>(),
        bytes(),
        proptest::option::of(".{0,8}"),
    )
        .prop_map(
            |(key, [create_index, modify_index, lock_index, flags], value, session)| KvEntry {
                key,
                create_index,
                modify_index,
                lock_index,
                flags,
                value,
                session,
            },
        )
}

pub(crate) fn client_response() -> impl Strategy<Value = ClientResponse> {
    let error = prop_oneof![
        proptest::option::of(any::<u64>().prop_map(NodeId))
            .prop_map(|leader| ClientError::NotLeader { leader }),
        Just(ClientError::LeadershipLost),
        Just(ClientError::NotReady),
        Just(ClientError::NoServers),
    ];
    prop_oneof![
        (index(), any::<bool>()).prop_map(|(index, done)| ClientResponse::Written {
            index,
            result: CommandResult::Kv(KvCommandResult::Done(done)),
        }),
        index().prop_map(|index| ClientResponse::Written {
            index,
            result: CommandResult::Catalog(CatalogCommandResult::Rejected(
                CatalogError::MissingNode
            )),
        }),
        (any::<u64>(), vec(kv_entry(), 0..3)).prop_map(|(index, entries)| ClientResponse::Read {
            index,
            result: QueryResult::Kv(KvQueryResult::Entries(entries)),
        }),
        (any::<u64>(), vec(".{0,8}", 0..3)).prop_map(|(index, keys)| ClientResponse::Read {
            index,
            result: QueryResult::Kv(KvQueryResult::Keys(keys)),
        }),
        any::<u64>().prop_map(|index| ClientResponse::Read {
            index,
            result: QueryResult::Catalog(CatalogQueryResult::NodeServices(None)),
        }),
        error.prop_map(ClientResponse::Failed),
    ]
}

/// Any forwarding envelope: a forwarded request or its reply.
pub(crate) fn forward_envelope() -> impl Strategy<Value = Envelope> {
    let body = prop_oneof![
        (any::<u64>(), client_request()).prop_map(|(id, request)| Body::Forward { id, request }),
        (any::<u64>(), client_response())
            .prop_map(|(id, response)| Body::ForwardReply { id, response }),
    ];
    (any::<u64>(), any::<u64>(), body).prop_map(|(from, to, body)| Envelope {
        from: NodeId(from),
        to: NodeId(to),
        body,
    })
}
