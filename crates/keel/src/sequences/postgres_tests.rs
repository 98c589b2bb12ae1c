//! PostgreSQL's rules on literal catalog rows, no server: what [`assess`]
//! finds for each shape of generator and what [`repairs`] sends for it.

use super::*;

/// An owned (`link = "a"`) ascending `bigint` sequence, `public.<table>_id_seq`,
/// owned by `app_owner` like its table, feeding `public.<table>.id`.
fn seq(oid: i64, table: &str) -> SeqInfo {
    SeqInfo {
        oid,
        schema: "public".into(),
        name: format!("{table}_id_seq"),
        owner: "app_owner".into(),
        link: "a".into(),
        fed_count: 1,
        start: 1,
        increment: 1,
        min: 1,
        max: i64::MAX,
        can_read: true,
        can_update: true,
        lacking_usage: Vec::new(),
    }
}

fn column(table: &str, seq: Option<SeqInfo>) -> Column {
    Column {
        schema: "public".into(),
        table: table.into(),
        column: "id".into(),
        type_name: "bigint".into(),
        table_owner: "app_owner".into(),
        inserters: Vec::new(),
        seq,
        free_name: Some(format!("{table}_id_seq")),
    }
}

/// Each column's extreme (`c<i>`) and each sequence's `(last_value,
/// is_called)` (`s<oid>`), as the values query returns them.
fn values(extremes: &[Option<i64>], seqs: &[(i64, i64, bool)]) -> Values {
    let mut v = Values::new();
    for (i, e) in extremes.iter().enumerate() {
        v.insert(format!("c{i}"), (*e, None));
    }
    for (oid, last, called) in seqs {
        v.insert(format!("s{oid}"), (Some(*last), Some(i64::from(*called))));
    }
    v
}

fn found(columns: &[Column], values: &Values) -> Vec<(String, Problem, bool)> {
    let (findings, _) = assess(columns, values);
    findings
        .into_iter()
        .map(|(_, f)| (format!("{}.{}", f.table, f.column), f.problem, f.fixable))
        .collect()
}

fn fix(columns: &[Column], values: &Values, options: &Options) -> Result<(Vec<Change>, String)> {
    let (findings, sequences) = assess(columns, values);
    repairs(columns, values, &sequences, &findings, options)
}

fn fix_all() -> Options {
    Options {
        fix: true,
        ..Options::default()
    }
}

#[test]
fn a_sound_sequence_has_no_finding_and_no_repair() {
    let cols = [column("user", Some(seq(10, "user")))];
    // next value 43 past max 42; an empty table whose sequence was never used
    for v in [
        values(&[Some(42)], &[(10, 42, true)]),
        values(&[None], &[(10, 1, false)]),
    ] {
        assert!(found(&cols, &v).is_empty());
        let (changes, batch) = fix(&cols, &v, &fix_all()).unwrap();
        assert!(changes.is_empty() && batch.is_empty());
    }
}

#[test]
fn behind_the_maximum_restarts_one_past_it() {
    let cols = [column("user", Some(seq(10, "user")))];
    let v = values(&[Some(100)], &[(10, 5, true)]);
    let (findings, _) = assess(&cols, &v);
    let [(_, f)] = findings.as_slice() else {
        panic!("{findings:?}")
    };
    assert_eq!((f.problem, f.fixable), (Problem::Behind, true));
    assert_eq!(f.sequence.as_deref(), Some("public.user_id_seq"));
    assert_eq!(
        f.detail,
        "next value 6 is not past the data (max 100): the next INSERT collides; must become 101"
    );
    let (changes, batch) = fix(&cols, &v, &fix_all()).unwrap();
    assert_eq!(
        batch,
        "ALTER SEQUENCE \"public\".\"user_id_seq\" RESTART WITH 101"
    );
    assert_eq!(
        (&*changes[0].before, &*changes[0].after),
        ("next value 6", "next value 101")
    );
    assert_eq!(changes[0].sql, [batch]);
}

#[test]
fn a_descending_sequence_must_go_below_the_minimum() {
    let s = SeqInfo {
        increment: -1,
        start: -1,
        min: i64::MIN,
        max: -1,
        ..seq(10, "user")
    };
    let cols = [column("user", Some(s))];
    let v = values(&[Some(-50)], &[(10, -3, true)]);
    let (findings, _) = assess(&cols, &v);
    assert!(findings[0].1.detail.contains("(min -50)"), "{findings:?}");
    let (_, batch) = fix(&cols, &v, &fix_all()).unwrap();
    assert_eq!(
        batch,
        "ALTER SEQUENCE \"public\".\"user_id_seq\" RESTART WITH -51"
    );
}

#[test]
fn a_value_outside_the_sequences_range_needs_a_person() {
    let s = SeqInfo {
        max: i64::from(i32::MAX),
        ..seq(10, "user")
    };
    let cols = [column("user", Some(s))];
    let v = values(&[Some(i64::from(i32::MAX))], &[(10, 7, true)]);
    assert_eq!(
        found(&cols, &v),
        [("public.user.id".to_string(), Problem::Behind, false)]
    );
    let (findings, _) = assess(&cols, &v);
    assert!(
        findings[0]
            .1
            .detail
            .contains("outside the sequence's range [1, 2147483647]: widen it"),
        "{findings:?}"
    );
    let (changes, batch) = fix(&cols, &v, &fix_all()).unwrap();
    assert!(changes.is_empty() && batch.is_empty());
}

#[test]
fn a_sequence_keel_may_not_update_is_refused_before_anything_is_sent() {
    let s = SeqInfo {
        can_update: false,
        ..seq(10, "user")
    };
    let cols = [column("user", Some(s))];
    let v = values(&[Some(100)], &[(10, 5, true)]);
    let err = fix(&cols, &v, &fix_all()).unwrap_err();
    assert!(
        err.to_string()
            .contains("may not change sequence public.user_id_seq"),
        "{err}"
    );
}

#[test]
fn a_key_without_a_generator_gets_an_identity_or_a_serial_sequence() {
    let cols = [Column {
        inserters: vec!["app".into(), "app_owner".into()],
        ..column("user", None)
    }];
    let v = values(&[Some(41)], &[]);
    let (findings, _) = assess(&cols, &v);
    assert_eq!(findings[0].1.problem, Problem::Missing);
    assert_eq!(
        findings[0].1.detail,
        "bigint primary key with no default and no identity: every INSERT without an id fails (largest id 41)"
    );
    let (changes, batch) = fix(&cols, &v, &fix_all()).unwrap();
    assert_eq!(
        batch,
        "ALTER TABLE \"public\".\"user\" ALTER COLUMN \"id\" ADD GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME \"public\".\"user_id_seq\" START WITH 42);\nGRANT USAGE, SELECT ON SEQUENCE \"public\".\"user_id_seq\" TO \"app\"",
        "the identity sequence is named so the roles that insert get lastval()"
    );
    assert_eq!(changes[0].after, "identity, next value 42");

    let serial = Options {
        style: Style::Serial,
        grant: vec!["reporting".into()],
        ..fix_all()
    };
    let (changes, _) = fix(&cols, &v, &serial).unwrap();
    assert_eq!(
        changes[0].sql,
        [
            "CREATE SEQUENCE \"public\".\"user_id_seq\" AS bigint START WITH 42",
            "ALTER SEQUENCE \"public\".\"user_id_seq\" OWNER TO \"app_owner\"",
            "ALTER SEQUENCE \"public\".\"user_id_seq\" OWNED BY \"public\".\"user\".\"id\"",
            "ALTER TABLE \"public\".\"user\" ALTER COLUMN \"id\" SET DEFAULT nextval('\"public\".\"user_id_seq\"'::regclass)",
            // the roles that insert and the --grant ones, not the owner
            "GRANT USAGE, SELECT ON SEQUENCE \"public\".\"user_id_seq\" TO \"app\", \"reporting\"",
        ]
    );
    assert_eq!(
        changes[0].after,
        "sequence public.user_id_seq, next value 42"
    );

    // an empty table starts at 1
    let (changes, _) = fix(&cols, &values(&[None], &[]), &fix_all()).unwrap();
    assert_eq!(changes[0].after, "identity, next value 1");

    let no_name = [Column {
        free_name: None,
        ..column("user", None)
    }];
    let err = fix(&no_name, &v, &serial).unwrap_err();
    assert!(err.to_string().contains("no free sequence name"), "{err}");
}

#[test]
fn a_default_drawing_from_an_unowned_sequence_is_linked() {
    let s = SeqInfo {
        link: String::new(),
        ..seq(10, "user")
    };
    let cols = [column("user", Some(s))];
    let v = values(&[Some(1)], &[(10, 1, true)]);
    assert_eq!(
        found(&cols, &v),
        [("public.user.id".to_string(), Problem::Unlinked, true)]
    );
    let (changes, batch) = fix(&cols, &v, &fix_all()).unwrap();
    assert_eq!(
        batch,
        "ALTER SEQUENCE \"public\".\"user_id_seq\" OWNED BY \"public\".\"user\".\"id\""
    );
    assert_eq!(changes[0].after, "owned by public.user.id");
    // an identity column's sequence is never "unlinked"
    let identity = [column(
        "user",
        Some(SeqInfo {
            link: "i".into(),
            ..seq(10, "user")
        }),
    )];
    assert!(found(&identity, &v).is_empty());
}

#[test]
fn a_shared_sequence_counts_every_column_it_feeds_and_is_reported_once() {
    let shared = SeqInfo {
        name: "ids".into(),
        fed_count: 2,
        ..seq(10, "user")
    };
    let cols = [
        column(
            "case",
            Some(SeqInfo {
                link: "a+".into(),
                ..shared.clone()
            }),
        ),
        column("user", Some(shared)),
    ];
    // user's ids are below the sequence, case's above it
    let v = values(&[Some(900), Some(10)], &[(10, 50, true)]);
    let (findings, _) = assess(&cols, &v);
    let [(i, f)] = findings.as_slice() else {
        panic!("{findings:?}")
    };
    // on the owning column, about every column the sequence feeds
    assert_eq!((*i, f.problem), (1, Problem::Behind));
    assert_eq!(
        f.detail,
        "next value 51 is not past the data (max 900 over the 2 columns it feeds): the next INSERT collides; must become 901"
    );
}

#[test]
fn roles_that_insert_without_usage_are_granted_it_in_one_statement() {
    let s = SeqInfo {
        lacking_usage: vec!["app".into(), "reporting".into()],
        ..seq(10, "user")
    };
    let cols = [column("user", Some(s.clone()))];
    let v = values(&[Some(1)], &[(10, 1, true)]);
    assert_eq!(
        found(&cols, &v),
        [
            ("public.user.id".to_string(), Problem::NoPrivilege, true),
            ("public.user.id".to_string(), Problem::NoPrivilege, true)
        ]
    );
    let (changes, batch) = fix(&cols, &v, &fix_all()).unwrap();
    assert_eq!(
        batch,
        "GRANT USAGE, SELECT ON SEQUENCE \"public\".\"user_id_seq\" TO \"app\", \"reporting\""
    );
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].before, "app lacks USAGE");
    // identity columns: INSERT works without USAGE, lastval()/currval()
    // do not, so a role lacking it is reported and granted it too
    let identity = [column(
        "user",
        Some(SeqInfo {
            link: "i".into(),
            ..s
        }),
    )];
    let got = found(&identity, &v);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|f| f.1 == Problem::NoPrivilege));
    let (_, batch) = fix(&identity, &v, &fix_all()).unwrap();
    assert_eq!(
        batch,
        "GRANT USAGE, SELECT ON SEQUENCE \"public\".\"user_id_seq\" TO \"app\", \"reporting\""
    );
}

#[test]
fn owners_are_fixed_first_and_values_last() {
    let s = SeqInfo {
        owner: "someone_else".into(),
        link: String::new(),
        ..seq(10, "user")
    };
    let cols = [column("user", Some(s))];
    let v = values(&[Some(100)], &[(10, 5, true)]);
    assert_eq!(
        found(&cols, &v),
        [
            ("public.user.id".to_string(), Problem::Unlinked, true),
            ("public.user.id".to_string(), Problem::Behind, true),
            ("public.user.id".to_string(), Problem::OwnerMismatch, true)
        ]
    );
    let (changes, batch) = fix(&cols, &v, &fix_all()).unwrap();
    let kinds: Vec<Problem> = changes.iter().map(|c| c.problem).collect();
    assert_eq!(
        kinds,
        [Problem::OwnerMismatch, Problem::Unlinked, Problem::Behind]
    );
    assert_eq!(
        batch,
        [
            "ALTER SEQUENCE \"public\".\"user_id_seq\" OWNER TO \"app_owner\"",
            "ALTER SEQUENCE \"public\".\"user_id_seq\" OWNED BY \"public\".\"user\".\"id\"",
            "ALTER SEQUENCE \"public\".\"user_id_seq\" RESTART WITH 101",
        ]
        .join(";\n")
    );
}

#[test]
fn an_integer_column_near_its_types_limit_is_reported_not_fixed() {
    let cols = [Column {
        type_name: "integer".into(),
        ..column("user", Some(seq(10, "user")))
    }];
    let v = values(&[Some(2_000_000_000)], &[(10, 2_000_000_000, true)]);
    assert_eq!(
        found(&cols, &v),
        [("public.user.id".to_string(), Problem::NearExhaustion, false)]
    );
    let (findings, _) = assess(&cols, &v);
    assert_eq!(
        findings[0].1.detail,
        "93% of the range is used (next value 2000000001, limit 2147483647): plan a move to bigint before inserts fail"
    );
    let (changes, batch) = fix(&cols, &v, &fix_all()).unwrap();
    assert!(changes.is_empty() && batch.is_empty());
}

#[test]
fn past_the_restart_limit_values_move_in_one_setval_statement() {
    let n = RESTART_LIMIT + 1;
    let cols: Vec<Column> = (0..n)
        .map(|i| column(&format!("t{i}"), Some(seq(i as i64 + 1, &format!("t{i}")))))
        .collect();
    let extremes = vec![Some(10); n];
    let seqs: Vec<(i64, i64, bool)> = (0..n).map(|i| (i as i64 + 1, 1, true)).collect();
    let (changes, batch) = fix(&cols, &values(&extremes, &seqs), &fix_all()).unwrap();
    assert_eq!(changes.len(), n);
    assert!(
        batch.starts_with(
            "SELECT count(setval(s, v, false)) FROM (VALUES (1::oid::regclass, 11::int8), "
        ),
        "{batch}"
    );
    assert!(!batch.contains("RESTART"));
    assert_eq!(changes[0].sql, ["SELECT setval(1, 11, false)"]);
}
