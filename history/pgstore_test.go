package history

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/internal/pgtest"
)

// pgChildEnv, when set, makes the test binary a PostgreSQL writer (see
// TestPostgres/killed_writer): EDGEVAL_HISTORY_PGCHILD=URL|FILE|ID|N|HANG
// appends N records named ID-0..ID-N-1 one append each, to the database
// and then to the file, printing each name once both hold it; with HANG
// ≥ 0 the append of record HANG stops inside its transaction, after its
// inserts and before its commit, for a minute.
const pgChildEnv = "EDGEVAL_HISTORY_PGCHILD"

func pgWriterChild(spec string) error {
	parts := strings.Split(spec, "|")
	if len(parts) != 5 {
		return fmt.Errorf("bad %s %q", pgChildEnv, spec)
	}
	n, err1 := strconv.Atoi(parts[3])
	hang, err2 := strconv.Atoi(parts[4])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("bad %s %q", pgChildEnv, spec)
	}
	db, err := OpenPG(parts[0])
	if err != nil {
		return err
	}
	file, err := OpenFile(parts[1])
	if err != nil {
		return err
	}
	for i := range n {
		if i == hang {
			beforeCommit = func() { time.Sleep(time.Minute) }
		}
		name := fmt.Sprintf("%s-%d", parts[2], i)
		rec := NewRecord(sample(parts[2]+"/"+strconv.Itoa(i)+".h5", compare.VerdictPass, 1e-6), name, time.Now())
		if err := db.AppendRecords(rec); err != nil {
			return err
		}
		if err := file.AppendRecords(rec); err != nil {
			return err
		}
		fmt.Println(name)
	}
	return nil
}

// TestPostgres runs the PostgreSQL store against a real server started for
// the test (skipped, with the reason, when PostgreSQL is not installed).
func TestPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	db := func(t *testing.T) *PGStore {
		name := strings.ToLower(strings.NewReplacer("/", "_", " ", "_", "-", "_").Replace(t.Name()))
		s, err := OpenPG(srv.CreateDB(t, name))
		require.NoError(t, err)
		return s
	}

	t.Run("round trip", func(t *testing.T) {
		s := db(t)
		_, _, err := s.Read()
		require.ErrorIs(t, err, fs.ErrNotExist, "a database never written to has no history")
		require.NoError(t, s.Init())
		recs, bad, err := s.Read()
		require.NoError(t, err, "an initialised history is an empty one")
		assert.Empty(t, recs)
		assert.Empty(t, bad)
		require.NoError(t, s.Init(), "Init keeps what is there")

		a, b, c := sample("a.h5", compare.VerdictPass, 1e-7), sample("b.h5", compare.VerdictFail, 0.5), sample("c.h5", compare.VerdictError, 0)
		c.Error, c.Outputs = "device rpi4: connection refused", nil
		require.NoError(t, s.Append(a))
		require.NoError(t, s.Append(b, c), "several results in one append")
		recs, bad, err = s.Read()
		require.NoError(t, err)
		require.Empty(t, bad)
		require.Len(t, recs, 3)
		for i, want := range []*compare.Result{a, b, c} {
			assert.Equal(t, want, recs[i].Result, "record %d", i)
			assert.Equal(t, filepath.Base(want.Model), recs[i].Key.Name)
			assert.Equal(t, "ab12", recs[i].Key.ModelSHA256)
		}
	})

	t.Run("same records as the file store", func(t *testing.T) {
		s := db(t)
		f := newStore(t)
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
		var recs []Record
		for i, m := range []string{"b.h5", "a.h5", "b.h5", "c.h5"} {
			r := sample(m, compare.VerdictPass, float64(i)*1e-7)
			recs = append(recs, NewRecord(r, "", t0.Add(time.Duration(3-i)*time.Hour)))
		}
		for _, st := range []Store{s, f} {
			require.NoError(t, st.AppendRecords(recs[:2]...))
			require.NoError(t, st.AppendRecords(recs[2:]...))
		}
		for _, filter := range []Filter{{}, {Model: "b.h5"}, {Since: t0.Add(90 * time.Minute)}} {
			fromDB, bad, err := s.Query(filter)
			require.NoError(t, err)
			require.Empty(t, bad)
			fromFile, _, err := f.Query(filter)
			require.NoError(t, err)
			assert.Equal(t, jsonOf(t, fromFile), jsonOf(t, fromDB), "filter %+v", filter)
			assert.NotEmpty(t, fromDB)
		}
	})

	t.Run("damaged row", func(t *testing.T) {
		s := db(t)
		require.NoError(t, s.Append(sample("a.h5", compare.VerdictPass, 1e-7), sample("b.h5", compare.VerdictPass, 1e-7)))
		exec1(t, s.url, `UPDATE `+PGTable+` SET result = replace(result, '"pass"', '"fail"') WHERE id = 2`)
		recs, bad, err := s.Read()
		require.NoError(t, err)
		require.Len(t, recs, 1, "the other record is still read")
		require.Len(t, bad, 1)
		assert.Equal(t, 2, bad[0].Line)
		assert.Contains(t, bad[0].Error(), "row 2: checksum mismatch")
	})

	t.Run("migrate", func(t *testing.T) {
		s := db(t)
		f := newStore(t)
		// A record written before names and .tflite hashes were stored
		// (its key has neither), a current one, and a damaged line.
		old := Record{Key: Key{Model: "/ci/a/models/net.h5", ModelSHA256: "ab12", Precision: "float32", Device: "host", Time: day0},
			Result: sample("net.h5", compare.VerdictPass, 1e-7)}
		oldLine, err := encodeRecord(old)
		require.NoError(t, err)
		require.Contains(t, string(oldLine), `"key":{"model"`, "no name in the key")
		cur := sample("net.h5", compare.VerdictPass, 2e-7)
		cur.TFLiteSHA256 = "cafe"
		require.NoError(t, os.MkdirAll(filepath.Dir(f.Path()), 0o755))
		require.NoError(t, os.WriteFile(f.Path(), append(oldLine, "{damaged}\n"...), 0o644))
		// The current record as a newer tool might write it: a result
		// field this version does not know must survive the migration.
		newer := NewRecord(cur, "", day0.Add(time.Hour))
		res, err := json.Marshal(cur)
		require.NoError(t, err)
		newer.rawResult = append(res[:len(res)-1:len(res)-1], `,"future_field":42}`...)
		require.NoError(t, f.AppendRecords(newer))

		st, bad, err := Migrate(f, s)
		require.NoError(t, err)
		require.Len(t, bad, 1)
		assert.Equal(t, 2, bad[0].Line)
		assert.Equal(t, MigrateStats{Read: 2, Added: 2}, st)
		st, _, err = Migrate(f, s)
		require.NoError(t, err)
		assert.Equal(t, MigrateStats{Read: 2, Present: 2}, st, "a second migration adds nothing")

		fromDB, bad, err := s.Query(Filter{})
		require.NoError(t, err)
		require.Empty(t, bad)
		fromFile, _, err := f.Query(Filter{})
		require.NoError(t, err)
		assert.Equal(t, jsonOf(t, fromFile), jsonOf(t, fromDB))
		require.Len(t, fromDB, 2)
		assert.Equal(t, "net.h5", fromDB[0].Key.Name, "a path-keyed record is named after its path's base name")
		assert.Equal(t, "cafe", fromDB[1].Key.TFLiteSHA256)
		var stored string
		c, err := pgx.Connect(context.Background(), s.url)
		require.NoError(t, err)
		require.NoError(t, c.QueryRow(context.Background(), `SELECT result FROM `+PGTable+` WHERE tflite_sha256 = 'cafe'`).Scan(&stored))
		c.Close(context.Background())
		assert.Contains(t, stored, `"future_field":42}`, "the record's bytes are kept")
		rep := FindRegressions(fromDB, Baseline{Kind: BaselineLastPass}, DefaultThresholds)
		require.Len(t, rep.Comparisons, 1, "old and new records of one model are one series")
		assert.Equal(t, 2, rep.Comparisons[0].Runs)
	})

	t.Run("killed writer", func(t *testing.T) {
		s := db(t)
		file := newStore(t)
		require.NoError(t, s.Init())
		const writers, each, victim, hang = 8, 20, 3, 5
		var wg sync.WaitGroup
		done := make([][]string, writers)
		errs := make([]error, writers)
		killed := make(chan struct{})
		start := time.Now()
		for w := range writers {
			h := -1
			if w == victim {
				h = hang
			}
			url := s.url + "&application_name=writer" + strconv.Itoa(w)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%s|w%d|%d|%d", pgChildEnv, url, file.Path(), w, each, h))
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			wg.Go(func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					done[w] = append(done[w], sc.Text())
				}
				err := cmd.Wait()
				if w == victim {
					<-killed
					if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
						errs[w] = fmt.Errorf("writer %d was not killed: %v: %s", w, err, stderr.String())
					}
					return
				}
				if err != nil {
					errs[w] = fmt.Errorf("writer %d: %w: %s", w, err, stderr.String())
				}
			})
			if w == victim {
				go func() {
					defer close(killed)
					// Kill it once the server shows its transaction open
					// with its inserts done (it waits before committing).
					waitInTransaction(t, s.url, "writer"+strconv.Itoa(w))
					_ = cmd.Process.Kill()
				}()
			}
		}
		wg.Wait()
		t.Logf("%d writers × %d appends, writer %d killed inside its append %d: %v", writers, each, victim, hang+1, time.Since(start))
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.Len(t, done[victim], hang, "the victim completed %d appends before it was killed", hang)

		recs, bad, err := s.Read()
		require.NoError(t, err)
		assert.Empty(t, bad, "no torn record")
		count := map[string]int{}
		for _, r := range recs {
			count[r.Key.Name]++
		}
		for w := range writers {
			for _, name := range done[w] {
				assert.Equal(t, 1, count[name], "completed append %s present exactly once", name)
				delete(count, name)
			}
		}
		assert.Empty(t, count, "nothing but the completed appends: the killed transaction left nothing")
		assert.Len(t, recs, (writers-1)*each+hang)

		fromDB, _, err := s.Query(Filter{})
		require.NoError(t, err)
		fromFile, bad, err := file.Query(Filter{})
		require.NoError(t, err)
		require.Empty(t, bad)
		assert.Equal(t, jsonOf(t, fromFile), jsonOf(t, fromDB), "the database holds what the file holds")
	})

	t.Run("open", func(t *testing.T) {
		st, err := Open("postgres://ci:s3cret@db.example:5432/edgeval?sslmode=require")
		require.NoError(t, err)
		require.IsType(t, &PGStore{}, st)
		assert.Equal(t, "postgres://ci:xxxxx@db.example:5432/edgeval?sslmode=require", st.Location(), "no password in messages")
		_, err = Open("postgres://host:notaport/db")
		assert.Error(t, err)
		_, err = Open("s3://bucket/h.jsonl")
		assert.ErrorContains(t, err, "not a file and not a postgres:// URL")
		st, err = Open("h.jsonl")
		require.NoError(t, err)
		assert.IsType(t, &FileStore{}, st)
		t.Setenv(EnvPath, "postgresql://ci@db.example/edgeval")
		st, err = Open("")
		require.NoError(t, err)
		assert.IsType(t, &PGStore{}, st, "$EDGEVAL_HISTORY may name a database")

		unreachable, err := OpenPG(fmt.Sprintf("postgres://%s@127.0.0.1:1/x?sslmode=disable&connect_timeout=1", pgtest.User))
		require.NoError(t, err)
		unreachable.Timeout = 2 * time.Second
		err = unreachable.Append(sample("a.h5", compare.VerdictPass, 0))
		assert.ErrorContains(t, err, "127.0.0.1:1")
	})
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func exec1(t *testing.T, url, sql string) {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	defer c.Close(context.Background())
	_, err = c.Exec(context.Background(), sql)
	require.NoError(t, err)
}

// waitInTransaction waits until the session of application app has been
// idle inside a transaction for a while: its inserts sent, its commit
// held back (an ordinary append is idle there for a moment only, between
// statements).
func waitInTransaction(t *testing.T, url, app string) {
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close(context.Background())
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		err := c.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'
AND clock_timestamp() - state_change > interval '300 milliseconds'`, app).Scan(&n)
		if err != nil {
			t.Error(err)
			return
		}
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Errorf("%s never waited inside a transaction", app)
}
