//! Decoder tests: hand-built messages of every type, malformed input, and property tests
//! (arbitrary bytes never panic; decoding inverts the test encoder).

use proptest::prelude::*;

use super::encode::encode;
use super::*;

/// Concatenates wire fragments into one message.
fn bytes(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn decodes_begin() {
    let raw = bytes(&[
        b"B",
        &0x0000_0001_0000_00A0_u64.to_be_bytes(),
        &1_000_000_i64.to_be_bytes(),
        &742_u32.to_be_bytes(),
    ]);
    let Message::Begin(begin) = decode(&raw).unwrap() else {
        panic!("not a Begin");
    };
    assert_eq!(begin.final_lsn.to_string(), "1/A0");
    assert_eq!(begin.commit_time, PgTimestamp(1_000_000));
    assert_eq!(begin.commit_time.unix_millis(), 946_684_801_000);
    assert_eq!(begin.xid, Xid(742));
}

#[test]
fn decodes_commit() {
    let raw = bytes(&[
        b"C\x00",
        &10_u64.to_be_bytes(),
        &20_u64.to_be_bytes(),
        &(-5_i64).to_be_bytes(),
    ]);
    assert_eq!(
        decode(&raw).unwrap(),
        Message::Commit(Commit {
            flags: 0,
            commit_lsn: Lsn(10),
            end_lsn: Lsn(20),
            commit_time: PgTimestamp(-5),
        })
    );
}

#[test]
fn decodes_origin() {
    let raw = bytes(&[b"O", &7_u64.to_be_bytes(), b"node_a\0"]);
    assert_eq!(
        decode(&raw).unwrap(),
        Message::Origin(Origin {
            commit_lsn: Lsn(7),
            name: "node_a",
        })
    );
}

#[test]
fn decodes_relation() {
    let raw = bytes(&[
        b"R",
        &16_385_u32.to_be_bytes(),
        b"public\0orders\0f",
        &2_u16.to_be_bytes(),
        b"\x01id\0",
        &23_u32.to_be_bytes(),
        &(-1_i32).to_be_bytes(),
        b"\x00price\0",
        &1700_u32.to_be_bytes(),
        &655_366_i32.to_be_bytes(),
    ]);
    let Message::Relation(relation) = decode(&raw).unwrap() else {
        panic!("not a Relation");
    };
    assert_eq!(relation.oid, Oid(16_385));
    assert_eq!((relation.namespace, relation.name), ("public", "orders"));
    assert_eq!(relation.replica_identity, ReplicaIdentity::Full);
    assert_eq!(
        relation.columns,
        [
            RelationColumn {
                key: KeyMembership::Key,
                name: "id",
                type_oid: Oid(23),
                type_modifier: -1,
            },
            RelationColumn {
                key: KeyMembership::NotKey,
                name: "price",
                type_oid: Oid(1700),
                type_modifier: 655_366,
            },
        ]
    );
}

#[test]
fn decodes_type() {
    let raw = bytes(&[b"Y", &90_001_u32.to_be_bytes(), b"public\0mood\0"]);
    assert_eq!(
        decode(&raw).unwrap(),
        Message::Type(TypeMessage {
            oid: Oid(90_001),
            namespace: "public",
            name: "mood",
        })
    );
}

#[test]
fn decodes_insert() {
    let raw = bytes(&[b"I", &5_u32.to_be_bytes(), b"N\x00\x02t\x00\x00\x00\x011n"]);
    assert_eq!(
        decode(&raw).unwrap(),
        Message::Insert(Insert {
            relation: Oid(5),
            new: TupleData {
                columns: vec![ColumnValue::Text(b"1"), ColumnValue::Null],
            },
        })
    );
}

#[test]
fn decodes_update_without_old_with_key_and_with_full_old_row() {
    let new = b"N\x00\x02t\x00\x00\x00\x011u".as_slice();
    let expected_new = TupleData {
        columns: vec![ColumnValue::Text(b"1"), ColumnValue::UnchangedToast],
    };
    let plain = bytes(&[b"U", &5_u32.to_be_bytes(), new]);
    assert_eq!(
        decode(&plain).unwrap(),
        Message::Update(Update {
            relation: Oid(5),
            old: None,
            new: expected_new.clone(),
        })
    );
    for (marker, wrap) in [
        (
            b"K",
            OldTuple::Key as fn(TupleData<'static>) -> OldTuple<'static>,
        ),
        (b"O", OldTuple::Full),
    ] {
        let raw = bytes(&[b"U", &5_u32.to_be_bytes(), marker, b"\x00\x01n", new]);
        let old = TupleData {
            columns: vec![ColumnValue::Null],
        };
        assert_eq!(
            decode(&raw).unwrap(),
            Message::Update(Update {
                relation: Oid(5),
                old: Some(wrap(old)),
                new: expected_new.clone(),
            })
        );
    }
}

#[test]
fn decodes_delete() {
    let raw = bytes(&[b"D", &9_u32.to_be_bytes(), b"K\x00\x01t\x00\x00\x00\x0242"]);
    assert_eq!(
        decode(&raw).unwrap(),
        Message::Delete(Delete {
            relation: Oid(9),
            old: OldTuple::Key(TupleData {
                columns: vec![ColumnValue::Text(b"42")],
            }),
        })
    );
}

#[test]
fn decodes_truncate() {
    let raw = bytes(&[
        b"T",
        &2_u32.to_be_bytes(),
        b"\x03",
        &100_u32.to_be_bytes(),
        &200_u32.to_be_bytes(),
    ]);
    let Message::Truncate(truncate) = decode(&raw).unwrap() else {
        panic!("not a Truncate");
    };
    assert!(truncate.options.cascade() && truncate.options.restart_identity());
    assert_eq!(truncate.relations, [Oid(100), Oid(200)]);
}

#[test]
fn decodes_logical_message() {
    let raw = bytes(&[
        b"M\x01",
        &77_u64.to_be_bytes(),
        b"prefix\0",
        &7_i32.to_be_bytes(),
        b"content",
    ]);
    assert_eq!(
        decode(&raw).unwrap(),
        Message::Message(LogicalMessage {
            transactionality: Transactionality::Transactional,
            lsn: Lsn(77),
            prefix: "prefix",
            content: b"content",
        })
    );
}

#[test]
fn truncated_message_names_offset_and_field() {
    let raw = bytes(&[b"B", &1_u64.to_be_bytes(), &[0, 0]]);
    let error = decode(&raw).unwrap_err();
    assert!(
        matches!(
            error,
            DecodeError::Truncated {
                offset: 9,
                field: "Begin commit timestamp",
                needed: 8,
                available: 2,
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("offset 9"), "{error}");
}

#[test]
fn unknown_type_byte_says_which_protocol_is_understood() {
    let error = decode(b"S\x00\x00\x00\x01\x01").unwrap_err();
    assert!(matches!(
        error,
        DecodeError::UnknownMessageType { byte: b'S' }
    ));
    assert!(error.to_string().contains("proto_version '1'"), "{error}");
    assert!(matches!(decode(b""), Err(DecodeError::Empty)));
}

#[test]
fn invalid_utf8_name_is_reported_with_its_field() {
    let raw = bytes(&[b"Y", &1_u32.to_be_bytes(), b"\xff\xfe\0name\0"]);
    let error = decode(&raw).unwrap_err();
    assert!(
        matches!(
            error,
            DecodeError::InvalidUtf8 {
                offset: 5,
                field: "Type namespace",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(std::error::Error::source(&error).is_some());
}

#[test]
fn other_malformations_are_errors() {
    let unterminated = bytes(&[b"O", &1_u64.to_be_bytes(), b"abc"]);
    assert!(matches!(
        decode(&unterminated),
        Err(DecodeError::UnterminatedString { offset: 9, .. })
    ));
    let bad_identity = bytes(&[b"R", &1_u32.to_be_bytes(), b"s\0t\0z\0\0"]);
    assert!(matches!(
        decode(&bad_identity),
        Err(DecodeError::UnknownReplicaIdentity { byte: b'z', .. })
    ));
    let bad_marker = bytes(&[b"D", &1_u32.to_be_bytes(), b"N\0\0"]);
    assert!(matches!(
        decode(&bad_marker),
        Err(DecodeError::UnexpectedTupleMarker { byte: b'N', .. })
    ));
    let trailing = bytes(&[b"Y", &1_u32.to_be_bytes(), b"s\0t\0!"]);
    assert!(matches!(
        decode(&trailing),
        Err(DecodeError::TrailingBytes { count: 1, .. })
    ));
    let huge_truncate = bytes(&[b"T", &u32::MAX.to_be_bytes(), b"\0"]);
    assert!(matches!(
        decode(&huge_truncate),
        Err(DecodeError::Truncated { .. })
    ));
}

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z_é0-9]{0,12}"
}

fn value_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..40)
}

/// Owned column values; tests borrow them into [`ColumnValue`]s.
fn raw_columns() -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    proptest::collection::vec((0_u8..4, value_bytes()), 0..8)
}

fn tuple(raw: &[(u8, Vec<u8>)]) -> TupleData<'_> {
    let columns = raw
        .iter()
        .map(|(kind, bytes)| match kind {
            0 => ColumnValue::Null,
            1 => ColumnValue::UnchangedToast,
            2 => ColumnValue::Text(bytes),
            _ => ColumnValue::Binary(bytes),
        })
        .collect();
    TupleData { columns }
}

fn assert_round_trip(message: &Message<'_>) -> Result<(), TestCaseError> {
    let encoded = encode(message);
    prop_assert_eq!(&decode(&encoded).unwrap(), message);
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode(&raw);
    }

    #[test]
    fn arbitrary_bodies_after_each_type_byte_never_panic(
        kind in proptest::sample::select(b"BCORYIUDTM".to_vec()),
        body in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        let _ = decode(&[&[kind], body.as_slice()].concat());
    }

    #[test]
    fn transaction_frames_round_trip(lsns in any::<(u64, u64)>(), time in any::<i64>(), xid in any::<u32>(), flags in any::<u8>(), origin in name()) {
        assert_round_trip(&Message::Begin(Begin { final_lsn: Lsn(lsns.0), commit_time: PgTimestamp(time), xid: Xid(xid) }))?;
        assert_round_trip(&Message::Commit(Commit { flags, commit_lsn: Lsn(lsns.0), end_lsn: Lsn(lsns.1), commit_time: PgTimestamp(time) }))?;
        assert_round_trip(&Message::Origin(Origin { commit_lsn: Lsn(lsns.1), name: &origin }))?;
    }

    #[test]
    fn relation_and_type_round_trip(
        oid in any::<u32>(),
        namespace in name(),
        table in name(),
        identity in proptest::sample::select(vec![ReplicaIdentity::Default, ReplicaIdentity::Nothing, ReplicaIdentity::Full, ReplicaIdentity::Index]),
        columns in proptest::collection::vec((any::<bool>(), name(), any::<u32>(), any::<i32>()), 0..6),
    ) {
        let columns = columns
            .iter()
            .map(|(key, name, type_oid, type_modifier)| RelationColumn {
                key: if *key { KeyMembership::Key } else { KeyMembership::NotKey },
                name,
                type_oid: Oid(*type_oid),
                type_modifier: *type_modifier,
            })
            .collect();
        assert_round_trip(&Message::Relation(Relation { oid: Oid(oid), namespace: &namespace, name: &table, replica_identity: identity, columns }))?;
        assert_round_trip(&Message::Type(TypeMessage { oid: Oid(oid), namespace: &namespace, name: &table }))?;
    }

    #[test]
    fn row_changes_round_trip(relation in any::<u32>(), old in raw_columns(), new in raw_columns(), old_kind in 0_u8..3) {
        let relation = Oid(relation);
        let old_tuple = match old_kind {
            0 => None,
            1 => Some(OldTuple::Key(tuple(&old))),
            _ => Some(OldTuple::Full(tuple(&old))),
        };
        assert_round_trip(&Message::Insert(Insert { relation, new: tuple(&new) }))?;
        assert_round_trip(&Message::Update(Update { relation, old: old_tuple.clone(), new: tuple(&new) }))?;
        if let Some(old) = old_tuple {
            assert_round_trip(&Message::Delete(Delete { relation, old }))?;
        }
    }

    #[test]
    fn truncate_and_logical_message_round_trip(
        options in any::<u8>(),
        oids in proptest::collection::vec(any::<u32>(), 0..10),
        transactional in any::<bool>(),
        lsn in any::<u64>(),
        prefix in name(),
        content in value_bytes(),
    ) {
        assert_round_trip(&Message::Truncate(Truncate { options: TruncateOptions(options), relations: oids.into_iter().map(Oid).collect() }))?;
        let transactionality = if transactional { Transactionality::Transactional } else { Transactionality::NonTransactional };
        assert_round_trip(&Message::Message(LogicalMessage { transactionality, lsn: Lsn(lsn), prefix: &prefix, content: &content }))?;
    }
}
