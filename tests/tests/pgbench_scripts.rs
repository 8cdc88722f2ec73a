//! The benchmark's per-RPC baseline (`deploy/pgbench/<rpc>.sql`, run by
//! `socsec-bench` beside each RPC) runs the very SQL the services run for
//! that RPC. Two checks keep the scripts true when the services' SQL
//! changes:
//!
//! - each RPC runs once on a database with `log_statement = all`, and the
//!   statements it ran (activation's and identity's, in order, BEGIN and
//!   COMMIT included; the services' background loops left out) are the
//!   script's statements, compared after normalising parameters
//!   (`$1`, `:var`, a NULL the RPC binds) and whitespace;
//! - each script runs once with pgbench against a system the services
//!   prepared, and writes the rows the RPC writes.

use sqlx::{Connection, PgConnection};
use system_tests::{System, World, as_caller, fresh_database, logs::database_log};

use socsec_proto::{
    activation::v1::{self as pb, check_eligibility_request::Card},
    card::v1 as card,
    common::v1::PartnerKind,
    identity::v1 as identity,
};

const ACTIVATION: &str = include_str!("../../deploy/pgbench/activation.sql");
const ELIGIBILITY: &str = include_str!("../../deploy/pgbench/eligibility.sql");
const REPLAY: &str = include_str!("../../deploy/pgbench/replay.sql");

const PARTNERS: &[system_tests::Partner] = &[
    ("ICBC", PartnerKind::Bank, ""),
    ("ICBC-0101", PartnerKind::BankOutlet, "ICBC"),
    ("H-001", PartnerKind::Hospital, ""),
];

/// Statements of the services' background loops (leader keep-alive, the
/// outbox sequencer and watchers, projectors' cursors, the partner caches'
/// refreshes, the retirement relay, gauges, pruning, partition upkeep): a
/// transaction or statement holding one of these is no part of an RPC.
const BACKGROUND: &[&str] = &[
    "SELECT 1",
    "hashtext('socsec.lead')",
    "outbox_sequencer",
    "FROM outbox WHERE position",
    "outbox_head",
    "INSERT INTO projection_cursors",
    "FROM partners",
    "legacy_retirements",
    "lag_seconds",
    "WHERE ctid",
    "month_partitions",
    "pg_partitioned_table",
];

/// What a script computes in place of a value the partner sends: the card
/// number (a primary-key subquery on the benchmark's list of cards) and the
/// audit subjects array (from the card it read). Each stands for one bind
/// parameter of the service's statement.
const SCRIPT_INPUTS: &[&str] = &[
    "(SELECT card_number FROM pgbench_input.cards WHERE i = :i)",
    "ARRAY[:c_person_id]",
];

fn outlet_request(
    request_id: &str,
    card: &card::Card,
    id_number: &str,
) -> pb::ActivateAtBankOutletRequest {
    pb::ActivateAtBankOutletRequest {
        request_id: request_id.into(),
        operator_id: "T1".into(),
        card_number: card.card_number.clone(),
        card_identification_code: card.card_identification_code.clone(),
        id_number: id_number.into(),
    }
}

fn eligibility_request(card: &card::Card) -> pb::CheckEligibilityRequest {
    pb::CheckEligibilityRequest {
        card: Some(Card::SocialSecurityCard(pb::CardPresented {
            card_number: card.card_number.clone(),
            card_identification_code: card.card_identification_code.clone(),
        })),
    }
}

/// The holders the tests use, with received ICBC cards in the projection.
async fn holders(w: &mut World, n: usize) -> Vec<(identity::Person, card::Card)> {
    let mut all = Vec::new();
    for _ in 0..n {
        let (person, card) = system_tests::journeys::person_with_received_card(
            &mut w.identity,
            &mut w.cards,
            "王芳",
            "ICBC",
        )
        .await;
        system_tests::journeys::projected(&mut w.activation, &card.card_number, "RECEIVED").await;
        all.push((person, card));
    }
    all
}

#[tokio::test]
async fn each_script_runs_the_statements_its_rpc_runs() {
    let url = fresh_database().await;
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    let name = url.rsplit_once('/').expect("a database name").1;
    // Statements of this database only, without their parameters.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} SET log_statement = 'all';
         ALTER DATABASE {name} SET log_parameter_max_length = 0"
    )))
    .execute(&mut conn)
    .await
    .expect("statement logging for the test's database");
    let mut w = World::on(system_on(url.clone()).await, PARTNERS, &[]).await;
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    let cards = holders(&mut w, 2).await;
    let (warm, measured) = (&cards[0], &cards[1]);
    let outlet = |id: &str, (person, card): &(identity::Person, card::Card)| {
        as_caller(
            "bank_outlet:ICBC-0101",
            outlet_request(id, card, &person.id_number),
        )
    };
    // Caches filled as under load: the callers known, the partners read.
    w.activation
        .activate_at_bank_outlet(outlet("warm", warm))
        .await
        .unwrap();
    w.activation
        .check_eligibility(as_caller("hospital:H-001", eligibility_request(&warm.1)))
        .await
        .unwrap();

    let mut a = w.activation.clone();
    let request = outlet("measured", measured);
    let activation = statements_of(&mut conn, "activation", async move {
        a.activate_at_bank_outlet(request).await.unwrap();
    })
    .await;
    let mut a = w.activation.clone();
    let request = as_caller("hospital:H-001", eligibility_request(&measured.1));
    let eligibility = statements_of(&mut conn, "eligibility", async move {
        assert!(
            a.check_eligibility(request)
                .await
                .unwrap()
                .into_inner()
                .eligible
        );
    })
    .await;
    let mut a = w.activation.clone();
    let request = outlet("measured", measured);
    let replay = statements_of(&mut conn, "replay", async move {
        a.activate_at_bank_outlet(request).await.unwrap();
    })
    .await;

    assert_eq!(activation, script_statements(ACTIVATION), "activation.sql");
    assert_eq!(
        eligibility,
        script_statements(ELIGIBILITY),
        "eligibility.sql"
    );
    assert_eq!(replay, script_statements(REPLAY), "replay.sql");
}

/// The system on `database_url`, its activation answering from the
/// projection while it is up to a minute behind (the largest bound allowed):
/// the scripts follow the path where the projection is fresh, and a busy
/// test machine must not send the RPC to card-issuance instead.
async fn system_on(database_url: String) -> System {
    System::start_on(database_url, |config| {
        config.eligibility_freshness_ms = 60_000
    })
    .await
}

/// The normalised statements `rpc` ran, from the database's log between two
/// markers the test writes around it, the background loops' left out.
async fn statements_of(
    conn: &mut PgConnection,
    tag: &str,
    rpc: impl std::future::Future<Output = ()>,
) -> Vec<String> {
    let (start, end) = (
        format!("pgbench-scripts-start-{tag}"),
        format!("pgbench-scripts-end-{tag}"),
    );
    let mark = async |conn: &mut PgConnection, marker: &str| {
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT '{marker}'")))
            .execute(conn)
            .await
            .expect("marker");
    };
    mark(conn, &start).await;
    rpc.await;
    mark(conn, &end).await;
    let log = database_log().expect(
        "the database's log (SOCSEC_TEST_PG_LOG, set by deploy/test.sh) is what this test reads",
    );
    let records = statement_records(&log);
    let from = records
        .iter()
        .rposition(|(_, s)| s.contains(&start))
        .expect("start marker logged");
    let to = records
        .iter()
        .rposition(|(_, s)| s.contains(&end))
        .expect("end marker logged");
    // A background loop's transaction may straddle a marker: its statements
    // before the start marker, or after the end one, are not in the window,
    // so what it ran inside the window is told by the process being inside
    // a transaction at the start, or still inside one at the end.
    let mut open_at_start = std::collections::HashSet::new();
    for (pid, text) in &records[..from] {
        match text.trim() {
            "BEGIN" => open_at_start.insert(pid.clone()),
            "COMMIT" | "ROLLBACK" => open_at_start.remove(pid),
            _ => false,
        };
    }
    rpc_statements(&records[from + 1..to], open_at_start)
}

/// Every statement the server logged (`statement: …`, `execute <name>: …`),
/// with the process that ran it.
fn statement_records(log: &str) -> Vec<(String, String)> {
    let mut records: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in log.lines() {
        let starts_record = line.len() > 10
            && line.as_bytes()[4] == b'-'
            && line[..4].bytes().all(|b| b.is_ascii_digit());
        if !starts_record {
            if let Some((_, text)) = current.as_mut() {
                text.push('\n');
                text.push_str(line);
            }
            continue;
        }
        records.extend(current.take());
        let pid = line
            .split_once('[')
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(pid, _)| pid.to_owned());
        let text = if let Some((_, s)) = line.split_once("LOG:  statement: ") {
            Some(s)
        } else if let Some((_, s)) = line.split_once("LOG:  execute ") {
            s.split_once(": ").map(|(_, s)| s)
        } else {
            None
        };
        current = pid.zip(text.map(str::to_owned));
    }
    records.extend(current);
    records
}

/// The statements of `records` that belong to the RPC, in order: each
/// process's transactions (BEGIN … COMMIT) and single statements, without
/// those of the background loops, nor the rest of a transaction open when
/// the window began (`open_at_start`: processes inside one) or the start
/// of one still open when it ended; normalised.
fn rpc_statements(
    records: &[(String, String)],
    mut open_at_start: std::collections::HashSet<String>,
) -> Vec<String> {
    let mut units: Vec<(String, Vec<String>, bool)> = Vec::new();
    for (pid, text) in records {
        if open_at_start.contains(pid) {
            if matches!(text.trim(), "COMMIT" | "ROLLBACK") {
                open_at_start.remove(pid);
            }
            continue;
        }
        let open = units
            .iter()
            .rposition(|(p, u, closed)| p == pid && !closed && u[0] == "BEGIN");
        match open {
            Some(at) => {
                let unit = &mut units[at];
                unit.1.push(text.trim().to_owned());
                unit.2 = matches!(text.trim(), "COMMIT" | "ROLLBACK");
            }
            None => units.push((
                pid.clone(),
                vec![text.trim().to_owned()],
                text.trim() != "BEGIN",
            )),
        }
    }
    units
        .into_iter()
        .filter(|(_, unit, closed)| {
            *closed
                && !unit
                    .iter()
                    .any(|s| BACKGROUND.iter().any(|b| s.contains(b)))
        })
        .flat_map(|(_, unit, _)| unit)
        .map(|s| normalise(&s))
        .collect()
}

/// The SQL statements of a pgbench script (comments and meta-commands
/// left out, a trailing `\gset` dropped), normalised.
fn script_statements(script: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in script.lines() {
        let line = line.trim_end();
        if line.trim_start().starts_with("--") || line.starts_with('\\') {
            continue;
        }
        let (sql, ends) = match line.split_once(" \\gset") {
            Some((sql, _)) => (sql, true),
            None => (line, line.ends_with(';')),
        };
        current.push_str(sql);
        current.push('\n');
        if ends {
            let mut sql = std::mem::take(&mut current);
            for input in SCRIPT_INPUTS {
                sql = sql.replace(input, "$0");
            }
            statements.push(normalise(&sql.replace("identity.", "")));
        }
    }
    statements
}

/// A statement with every parameter (`$n`, pgbench's `:name`, a NULL bound
/// as such) as `?`, without whitespace or a trailing `;`.
fn normalise(sql: &str) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_param = (c == '$' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
            || (c == ':'
                && (i == 0 || chars[i - 1] != ':')
                && chars
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_'));
        if starts_param {
            out.push('?');
            i += 1;
            while chars
                .get(i)
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '_')
            {
                i += 1;
            }
        } else {
            if !c.is_whitespace() {
                out.push(c);
            }
            i += 1;
        }
    }
    out.trim_end_matches(';').replace("NULL", "?")
}

#[tokio::test]
async fn each_script_writes_the_rows_its_rpc_writes() {
    let mut w = World::with_partners(PARTNERS, &[]).await;
    let url = w.system.database_url.clone();
    let cards = holders(&mut w, 2).await;
    let ((rpc_person, rpc_card), (script_person, script_card)) = (&cards[0], &cards[1]);
    w.activation
        .activate_at_bank_outlet(as_caller(
            "bank_outlet:ICBC-0101",
            outlet_request("rows-rpc", rpc_card, &rpc_person.id_number),
        ))
        .await
        .unwrap();
    w.activation
        .check_eligibility(as_caller("hospital:H-001", eligibility_request(rpc_card)))
        .await
        .unwrap();

    let mut conn = PgConnection::connect(&url).await.expect("connect");
    sqlx::raw_sql(
        "CREATE SCHEMA pgbench_input;
         CREATE TABLE pgbench_input.cards (i int PRIMARY KEY, card_number text NOT NULL)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query("INSERT INTO pgbench_input.cards VALUES (0, $1)")
        .bind(&script_card.card_number)
        .execute(&mut conn)
        .await
        .unwrap();
    for script in [ACTIVATION, ELIGIBILITY, REPLAY] {
        pgbench_once(&url, script);
    }

    // What each wrote, with the values that differ by request as names.
    let rows = async |conn: &mut PgConnection, request_id: &str, person: &str, card: &str| {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT 'activation ' || concat_ws(' ', channel, partner_code, operator_id,
                         retired_legacy_card_number IS NULL)
                 FROM activation.activations WHERE card_number = $3 AND request_id = $1
             UNION ALL
             SELECT 'answer ' || concat_ws(' ', caller, rpc, length(request_hash), response IS NOT NULL)
                 FROM activation.idempotency_keys WHERE request_id = $1
             UNION ALL
             SELECT 'audit ' || concat_ws(' ', actor_kind, actor_code, action, access,
                         subject_id = $2, coalesce(request_id = $1, false), on_behalf_of)
                 FROM activation.audit_log WHERE subject_id = $2
                     AND action IN ('ActivateAtBankOutlet', 'CheckEligibility')
             UNION ALL
             SELECT 'identity audit ' || concat_ws(' ', actor_kind, actor_code, action, access,
                         request_id = $1, on_behalf_of)
                 FROM identity.audit_log WHERE subject_id = $2 AND action = 'VerifyHolder'
             ORDER BY 1",
        )
        .bind(request_id)
        .bind(person)
        .bind(card)
        .fetch_all(conn)
        .await
        .unwrap();
        rows
    };
    let by_rpc = rows(
        &mut conn,
        "rows-rpc",
        &rpc_person.person_id,
        &rpc_card.card_number,
    )
    .await;
    let by_script = rows(
        &mut conn,
        "900000000",
        &script_person.person_id,
        &script_card.card_number,
    )
    .await;
    assert_eq!(by_script, by_rpc);
    assert_eq!(
        by_rpc.len(),
        5,
        "activation, answer, two audit entries, identity's: {by_rpc:?}"
    );
    // The payloads' lengths vary with the activation's time (protobuf).
    let events: Vec<String> =
        sqlx::query_scalar("SELECT event_type FROM activation.outbox ORDER BY seq")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(events, ["CardActivated", "CardActivated"], "one event each");
}

/// Runs `script` once (one client, one transaction) with pgbench on `url`,
/// as `socsec-bench` runs it: its `-- -D` values, activation's schema.
fn pgbench_once(url: &str, script: &str) {
    let file = std::env::temp_dir().join(format!("pgbench-script-{}.sql", uuid::Uuid::new_v4()));
    std::fs::write(&file, script).unwrap();
    let defines = script
        .lines()
        .filter_map(|l| l.strip_prefix("-- -D "))
        .map(|d| match d.split_once('=') {
            Some(("clients" | "cards", _)) => format!("{}=1", d.split_once('=').unwrap().0),
            _ => d.to_owned(),
        });
    let output = std::process::Command::new(pgbench())
        .env("PGOPTIONS", "-c search_path=activation")
        .args(["-n", "-M", "prepared", "-c", "1", "-t", "1"])
        .args(defines.flat_map(|d| ["-D".to_owned(), d]))
        .arg("-f")
        .arg(&file)
        .arg(url)
        .output()
        .expect("pgbench runs");
    let _ = std::fs::remove_file(&file);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && text.contains("number of failed transactions: 0"),
        "pgbench: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// pgbench: `SOCSEC_PGBENCH`, else on the PATH, else the newest
/// `/usr/lib/postgresql/*/bin/pgbench` (where `deploy/lib/postgres.sh`
/// finds the server).
fn pgbench() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("SOCSEC_PGBENCH") {
        return path.into();
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("pgbench"))
        .find(|p| p.is_file());
    let mut installed: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/pgbench"))
        .filter(|p| p.is_file())
        .collect();
    installed.sort_by_key(|p| {
        p.components()
            .nth(4)
            .and_then(|v| v.as_os_str().to_str()?.parse::<u32>().ok())
    });
    on_path
        .or_else(|| installed.pop())
        .expect("pgbench (set SOCSEC_PGBENCH, or install PostgreSQL's client programs)")
}
