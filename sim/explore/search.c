/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The search: schedules in order, each summed up as a record (verdict, steps, hash, coverage); the
 * first failing one is shrunk. With --jobs J, schedule i runs in worker i mod J (fork()ed) and the
 * parent takes the records in the order of i, so what it reports (first failure, counts, coverage)
 * is what one process would report: only schedules up to the one that ends the search count.
 */
#include "sim/explore/explore-internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#define NR_PAIR_WORDS (EXPLORE_MAX_POINTS * EXPLORE_MAX_POINTS / 64)
/* PCT: schedules run before the rest to learn k (the most choices a run makes) */
#define PCT_CALIBRATION 64

/* What the parent needs of one schedule. Pairs: only those its worker had not seen before (the
 * union over any prefix of schedules is the same). */
typedef struct {
	guint64 index;
	guint64 steps;
	guint64 hash;
	guint64 probes;
	guint32 failed;
	guint32 nr_pairs;
} Record;

/* The search's state: options, what PCT learned, the DFS stack, the merged results. */
typedef struct {
	const ExploreTarget *target;
	const ExploreOptions *opts;
	guint nr_actors;
	guint64 k;
	guint64 calibration_k[PCT_CALIBRATION]; /* the k each calibration schedule ran with */
	ExploreDfs *dfs;
	guint64 seen[NR_PAIR_WORDS]; /* pairs this process has seen (worker-local in a worker) */
	GArray *hashes;              /* guint64, parent */
	ExploreResult *result;
} Search;

/* Run schedule i of a random or PCT search. */
static gboolean
run_nth(Search *s, guint64 i, ExploreRun *run, GError **error)
{
	gboolean ok;

	if (s->opts->strategy == EXPLORE_RANDOM) {
		ExploreRandom r;

		explore_random_init(&r, s->opts->seed, i);
		ok = explore_run_with(s->target, explore_random_pick, &r, FALSE, FALSE, run, error);
		explore_random_clear(&r);
	} else if (i == 0) {
		/* PCT's first schedule is the non-preemptive run, which tells n and k */
		ok = explore_run_with(s->target, explore_default_pick, NULL, FALSE, FALSE, run,
				      error);
	} else {
		ExplorePct p;

		explore_pct_init(&p, s->opts->seed, i, s->nr_actors, s->opts->depth,
				 i < PCT_CALIBRATION ? s->calibration_k[i] : s->k);
		ok = explore_run_with(s->target, explore_pct_pick, &p, FALSE, FALSE, run, error);
		explore_pct_clear(&p);
	}
	return ok;
}

/* The record of a finished run; pairs new to this process go to *new_pairs. */
static void
make_record(Search *s, guint64 i, const ExploreRun *run, Record *rec, GArray *new_pairs)
{
	memset(rec, 0, sizeof(*rec));
	rec->index = i;
	rec->steps = run->steps;
	rec->hash = run->hash;
	rec->probes = run->probes;
	rec->failed = run->failed;
	g_array_set_size(new_pairs, 0);
	for (guint w = 0; w < NR_PAIR_WORDS; w++) {
		for (guint64 bits = run->pairs[w] & ~s->seen[w]; bits; bits &= bits - 1) {
			guint32 bit = w * 64 + (guint)__builtin_ctzll(bits);

			g_array_append_val(new_pairs, bit);
		}
		s->seen[w] |= run->pairs[w];
	}
	rec->nr_pairs = new_pairs->len;
}

/* Count a record into the result; TRUE if the search goes on after it. */
static gboolean
take_record(Search *s, const Record *rec, const guint32 *pairs)
{
	ExploreResult *r = s->result;

	r->schedules++;
	r->steps += rec->steps;
	r->probe_bits |= rec->probes;
	g_array_append_val(s->hashes, rec->hash);
	for (guint i = 0; i < rec->nr_pairs; i++)
		s->seen[pairs[i] / 64] |= 1ull << (pairs[i] % 64);
	if (rec->failed) {
		r->failed = TRUE;
		r->failing_schedule = rec->index + 1;
		return FALSE;
	}
	if (s->opts->time_budget && r->steps >= s->opts->time_budget) {
		r->stopped_by_time = TRUE;
		return FALSE;
	}
	return TRUE;
}

static gboolean
write_all(int fd, const void *buf, gsize len)
{
	const guint8 *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		p += n;
		len -= (gsize)n;
	}
	return TRUE;
}

/*
 * The parent's end of the workers' pipes. It takes records in schedule order, which is not the
 * order workers write them in: whatever any worker wrote is read as soon as it is there and kept
 * until its turn, so no worker waits on a full pipe for the parent to come to it.
 */
typedef struct {
	int *fds;
	GByteArray **bufs;
	gsize *used;        /* bytes of bufs[w] already taken */
	guint n;
} Channels;

static void
channels_init(Channels *c, int *fds, guint n)
{
	c->fds = fds;
	c->n = n;
	c->bufs = g_new0(GByteArray *, n);
	c->used = g_new0(gsize, n);
	for (guint w = 0; w < n; w++)
		c->bufs[w] = g_byte_array_new();
}

static void
channels_clear(Channels *c)
{
	for (guint w = 0; w < c->n; w++)
		g_byte_array_free(c->bufs[w], TRUE);
	g_free(c->bufs);
	g_free(c->used);
}

/* Close the parent's ends of the pipes of n workers, stop the workers and reap them. */
static void
workers_stop(const int *fds, const pid_t *pids, guint n)
{
	for (guint w = 0; w < n; w++) {
		if (fds[w] >= 0)
			close(fds[w]);
		kill(pids[w], SIGKILL);
		waitpid(pids[w], NULL, 0);
	}
}

/* Read what is there from every worker that wrote something (waiting for one to); FALSE when
 * every pipe is closed. */
static gboolean
channels_fill(Channels *c)
{
	g_autofree struct pollfd *pfd = g_new0(struct pollfd, c->n);
	guint8 chunk[65536];
	gboolean open = FALSE;

	for (guint w = 0; w < c->n; w++) {
		pfd[w].fd = c->fds[w];
		pfd[w].events = POLLIN;
		open |= c->fds[w] >= 0;
	}
	if (!open)
		return FALSE;
	while (poll(pfd, c->n, -1) < 0)
		if (errno != EINTR)
			return FALSE;
	for (guint w = 0; w < c->n; w++) {
		if (!(pfd[w].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t got = read(c->fds[w], chunk, sizeof(chunk));

		if (got > 0) {
			g_byte_array_append(c->bufs[w], chunk, (guint)got);
		} else if (got == 0 || errno != EINTR) {
			close(c->fds[w]);
			c->fds[w] = -1;
		}
	}
	return TRUE;
}

/* len bytes of worker w's stream, waiting for them; FALSE if it ended before. */
static gboolean
channels_read(Channels *c, guint w, void *out, gsize len)
{
	while (c->bufs[w]->len - c->used[w] < len) {
		if (c->fds[w] < 0 || !channels_fill(c))
			return FALSE;
	}
	memcpy(out, c->bufs[w]->data + c->used[w], len);
	c->used[w] += len;
	if (c->used[w] == c->bufs[w]->len || c->used[w] > (1u << 20)) {
		g_byte_array_remove_range(c->bufs[w], 0, (guint)c->used[w]);
		c->used[w] = 0;
	}
	return TRUE;
}

/* A worker: the schedules i >= first with i mod J = w, up to the budget or its first failure, one
 * record each. */
static G_NORETURN void
worker(Search *s, guint w, guint jobs, guint64 first, guint64 budget, int fd)
{
	g_autoptr(GArray) pairs = g_array_new(FALSE, FALSE, sizeof(guint32));

	memset(s->seen, 0, sizeof(s->seen));
	/* the schedules from first on that are w modulo jobs */
	for (guint64 i = first + (w + jobs - first % jobs) % jobs; !budget || i < budget;
	     i += jobs) {
		ExploreRun run;
		Record rec;

		if (!run_nth(s, i, &run, NULL))
			_exit(3);
		make_record(s, i, &run, &rec, pairs);
		explore_run_clear(&run);
		if (!write_all(fd, &rec, sizeof(rec)) ||
		    !write_all(fd, pairs->data, pairs->len * sizeof(guint32)))
			_exit(0);
		if (rec.failed)
			break;
	}
	_exit(0);
}

/* Random or PCT over worker processes; records merged in schedule order. */
static gboolean
search_jobs(Search *s, guint64 first, guint64 budget, GError **error)
{
	guint jobs = s->opts->jobs;
	g_autofree pid_t *pids = g_new0(pid_t, jobs);
	g_autofree int *fds = g_new0(int, jobs);
	gboolean ok = TRUE, more = TRUE;
	g_autoptr(GArray) pairs = g_array_new(FALSE, FALSE, sizeof(guint32));

	fflush(stdout);
	fflush(stderr);
	for (guint w = 0; w < jobs; w++) {
		int p[2];

		if (pipe(p) < 0) {
			g_set_error(error, EXPLORE_ERROR, EXPLORE_ERROR_JOBS, "pipe: %s",
				    g_strerror(errno));
			jobs = w;
			ok = FALSE;
			break;
		}
		pids[w] = fork();
		if (pids[w] == 0) {
			for (guint v = 0; v < w; v++)
				close(fds[v]);
			close(p[0]);
			worker(s, w, s->opts->jobs, first, budget, p[1]);
		}
		close(p[1]);
		fds[w] = p[0];
	}
	Channels ch;

	channels_init(&ch, fds, jobs);
	for (guint64 i = first; ok && more && (!budget || i < budget); i++) {
		Record rec;
		guint w = (guint)(i % s->opts->jobs);

		if (!channels_read(&ch, w, &rec, sizeof(rec)) || rec.index != i) {
			g_set_error(error, EXPLORE_ERROR, EXPLORE_ERROR_JOBS,
				    "worker %u stopped before schedule %" G_GUINT64_FORMAT, w, i + 1);
			ok = FALSE;
			break;
		}
		g_array_set_size(pairs, rec.nr_pairs);
		if (!channels_read(&ch, w, pairs->data, rec.nr_pairs * sizeof(guint32))) {
			g_set_error(error, EXPLORE_ERROR, EXPLORE_ERROR_JOBS,
				    "worker %u stopped in schedule %" G_GUINT64_FORMAT, w, i + 1);
			ok = FALSE;
			break;
		}
		more = take_record(s, &rec, (const guint32 *)pairs->data);
	}
	workers_stop(fds, pids, jobs);
	channels_clear(&ch);
	return ok;
}

/* Random or PCT in this process. */
static gboolean
search_here(Search *s, guint64 first, guint64 budget, GError **error)
{
	g_autoptr(GArray) pairs = g_array_new(FALSE, FALSE, sizeof(guint32));

	for (guint64 i = first; !budget || i < budget; i++) {
		ExploreRun run;
		Record rec;

		if (!run_nth(s, i, &run, error))
			return FALSE;
		make_record(s, i, &run, &rec, pairs);
		explore_run_clear(&run);
		if (!take_record(s, &rec, (const guint32 *)pairs->data))
			break;
	}
	return TRUE;
}

/* One subtree of a parallel DFS: the schedules that first part from the first run at choice
 * frame, picking pick there. */
typedef struct {
	guint frame;
	guint pick;
} Unit;

/* A DFS worker: the subtrees u with u mod J = w, in order, each to its end (or its first failure,
 * after which the worker stops): a record per schedule (a failing one followed by its number of
 * deviations and the deviations), then an end-of-subtree record (index G_MAXUINT64). */
static G_NORETURN void
dfs_worker(Search *s, const GArray *units, guint w, guint jobs, int fd)
{
	g_autoptr(GArray) pairs = g_array_new(FALSE, FALSE, sizeof(guint32));
	const Record end = { .index = G_MAXUINT64 };

	memset(s->seen, 0, sizeof(s->seen));
	for (guint u = w; u < units->len; u += jobs) {
		const Unit *unit = &g_array_index(units, Unit, u);
		ExploreDfs *d = explore_dfs_subtree(s->dfs, unit->frame, unit->pick);
		gboolean more = TRUE;

		while (more) {
			ExploreRun run;
			Record rec;

			if (!explore_run_with(s->target, explore_dfs_pick, d, FALSE, FALSE, &run, NULL))
				_exit(3);
			make_record(s, u, &run, &rec, pairs);
			guint32 n = run.deviations->len;

			if (!write_all(fd, &rec, sizeof(rec)) ||
			    !write_all(fd, pairs->data, pairs->len * sizeof(guint32)) ||
			    (rec.failed && (!write_all(fd, &n, sizeof(n)) ||
					    !write_all(fd, run.deviations->data,
						       n * sizeof(ExploreChoice)))))
				_exit(0);
			explore_run_clear(&run);
			if (rec.failed)
				_exit(0);
			more = explore_dfs_next(d);
		}
		explore_dfs_free(d);
		if (!write_all(fd, &end, sizeof(end)))
			_exit(0);
	}
	_exit(0);
}

/* The subtrees of the first run, in the order a sequential DFS runs them. */
static GArray *
dfs_units(const ExploreDfs *first)
{
	GArray *units = g_array_new(FALSE, FALSE, sizeof(Unit));

	for (guint i = explore_dfs_nr_frames(first); i-- > 0;) {
		for (guint64 alt = explore_dfs_alternatives(first, i); alt; alt &= alt - 1) {
			Unit u = { i, (guint)__builtin_ctzll(alt) };

			g_array_append_val(units, u);
		}
	}
	return units;
}

/* Read the rest of a failing DFS schedule's record: its deviations, run again here as found. */
static gboolean
dfs_read_failure(Search *s, Channels *ch, guint w, GError **error)
{
	guint32 n;
	g_autoptr(GArray) devs = g_array_new(FALSE, FALSE, sizeof(ExploreChoice));

	if (!channels_read(ch, w, &n, sizeof(n)))
		return FALSE;
	g_array_set_size(devs, n);
	if (!channels_read(ch, w, devs->data, n * sizeof(ExploreChoice)))
		return FALSE;
	return explore_run_schedule(s->target, (const ExploreChoice *)devs->data, n, FALSE, FALSE,
				    &s->result->found, error);
}

/* The subtrees over worker processes, taken in their order: what one process would count. */
static gboolean
search_dfs_jobs(Search *s, guint64 budget, GError **error)
{
	g_autoptr(GArray) units = dfs_units(s->dfs);
	guint jobs = MIN(s->opts->jobs, MAX(units->len, 1));
	g_autofree pid_t *pids = g_new0(pid_t, jobs);
	g_autofree int *fds = g_new0(int, jobs);
	g_autoptr(GArray) pairs = g_array_new(FALSE, FALSE, sizeof(guint32));
	gboolean ok = TRUE, more = TRUE;
	guint started = 0;

	fflush(stdout);
	fflush(stderr);
	for (; started < jobs; started++) {
		int p[2];

		if (pipe(p) < 0) {
			g_set_error(error, EXPLORE_ERROR, EXPLORE_ERROR_JOBS, "pipe: %s",
				    g_strerror(errno));
			ok = FALSE;
			break;
		}
		pids[started] = fork();
		if (pids[started] == 0) {
			for (guint v = 0; v < started; v++)
				close(fds[v]);
			close(p[0]);
			dfs_worker(s, units, started, jobs, p[1]);
		}
		close(p[1]);
		fds[started] = p[0];
	}
	Channels ch;

	channels_init(&ch, fds, started);
	for (guint u = 0; ok && more && u < units->len; u++) {
		guint w = u % jobs;

		for (;;) {
			Record rec;

			if (!channels_read(&ch, w, &rec, sizeof(rec)) ||
			    (rec.index != u && rec.index != G_MAXUINT64)) {
				g_set_error(error, EXPLORE_ERROR, EXPLORE_ERROR_JOBS,
					    "DFS worker %u stopped in subtree %u", u % jobs, u + 1);
				ok = FALSE;
				break;
			}
			if (rec.index == G_MAXUINT64)
				break;
			g_array_set_size(pairs, rec.nr_pairs);
			if (!channels_read(&ch, w, pairs->data, rec.nr_pairs * sizeof(guint32)) ||
			    (rec.failed && !dfs_read_failure(s, &ch, w, error))) {
				if (error && !*error)
					g_set_error(error, EXPLORE_ERROR, EXPLORE_ERROR_JOBS,
						    "DFS worker %u stopped in subtree %u", u % jobs,
						    u + 1);
				ok = FALSE;
				break;
			}
			/* one schedule more than the budget: the search ends, not exhausted */
			more = !budget || s->result->schedules < budget;
			if (!more)
				break;
			rec.index = s->result->schedules; /* its number in the sequential order */
			more = take_record(s, &rec, (const guint32 *)pairs->data);
			if (!more)
				break;
		}
	}
	s->result->exhausted = ok && more;
	workers_stop(fds, pids, started);
	channels_clear(&ch);
	return ok;
}

/* DFS: the first run here, then its subtrees: one by one from the stack of the last run, or
 * over worker processes. */
static gboolean
search_dfs(Search *s, guint64 budget, GError **error)
{
	g_autoptr(GArray) pairs = g_array_new(FALSE, FALSE, sizeof(guint32));

	s->dfs = explore_dfs_new(s->opts->preemption_bound);
	for (guint64 i = 0; !budget || i < budget; i++) {
		ExploreRun run;
		Record rec;

		if (!explore_run_with(s->target, explore_dfs_pick, s->dfs, FALSE, FALSE, &run, error))
			return FALSE;
		make_record(s, i, &run, &rec, pairs);
		if (rec.failed) {
			/* keep the failing run itself: a DFS schedule has no number to re-run from */
			s->result->found = run;
		} else {
			explore_run_clear(&run);
		}
		if (!take_record(s, &rec, (const guint32 *)pairs->data))
			return TRUE;
		if (i == 0 && s->opts->jobs > 1 && (!budget || budget > 1))
			return search_dfs_jobs(s, budget, error);
		if (!explore_dfs_next(s->dfs)) {
			s->result->exhausted = TRUE;
			return TRUE;
		}
	}
	return TRUE;
}

static gint
compare_u64(gconstpointer a, gconstpointer b)
{
	guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

	return x < y ? -1 : x > y;
}

/* Distinct hashes, pairs and probes reached: the coverage of the schedules that counted. */
static void
sum_up(Search *s)
{
	ExploreResult *r = s->result;

	g_array_sort(s->hashes, compare_u64);
	for (guint i = 0; i < s->hashes->len; i++)
		r->distinct += i == 0 || g_array_index(s->hashes, guint64, i) !=
						 g_array_index(s->hashes, guint64, i - 1);
	for (guint w = 0; w < NR_PAIR_WORDS; w++)
		r->pairs += (guint)__builtin_popcountll(s->seen[w]);
	r->probes = (guint)__builtin_popcountll(r->probe_bits);
}

gboolean
explore_search(const ExploreTarget *target, const ExploreOptions *opts, ExploreResult *result,
	       GError **error)
{
	Search s = { .target = target, .opts = opts, .result = result };
	guint64 budget = opts->budget;
	gboolean ok;

	memset(result, 0, sizeof(*result));
	s.hashes = g_array_new(FALSE, FALSE, sizeof(guint64));
	if (!budget && opts->strategy != EXPLORE_DFS && !opts->time_budget)
		budget = EXPLORE_DEFAULT_BUDGET;
	if (opts->strategy == EXPLORE_DFS) {
		ok = search_dfs(&s, budget, error);
	} else {
		guint64 first = 0;

		if (opts->strategy == EXPLORE_PCT) {
			/* the first PCT_CALIBRATION schedules run here: the non-preemptive one, which
			 * tells n and a first k, then PCT ones with the k learned so far; what they
			 * learn is the k of every later schedule, whichever process runs it */
			g_autoptr(GArray) pairs = g_array_new(FALSE, FALSE, sizeof(guint32));
			gboolean more = TRUE;

			for (; more && first < PCT_CALIBRATION && (!budget || first < budget);
			     first++) {
				ExploreRun run;
				Record rec;

				s.calibration_k[first] = s.k;
				ok = run_nth(&s, first, &run, error);
				if (!ok)
					goto out;
				if (first == 0)
					s.nr_actors = run.nr_actors;
				s.k = MAX(s.k, MAX(run.choices->len, 1));
				make_record(&s, first, &run, &rec, pairs);
				explore_run_clear(&run);
				more = take_record(&s, &rec, (const guint32 *)pairs->data);
			}
			result->nr_actors = s.nr_actors;
			result->pct_k = s.k;
			result->pct_calibration = (guint)first;
			if (!more || (budget && first >= budget)) {
				ok = TRUE;
				goto found;
			}
		}
		ok = opts->jobs > 1 ? search_jobs(&s, first, budget, error) :
				      search_here(&s, first, budget, error);
	}
found:
	if (ok && result->failed && opts->strategy != EXPLORE_DFS) {
		ok = run_nth(&s, result->failing_schedule - 1, &result->found, error);
		/* the failing schedule runs again here: a self-check of determinism */
		if (ok && !result->found.failed) {
			g_set_error(error, EXPLORE_ERROR, EXPLORE_ERROR_TARGET,
				    "schedule %" G_GUINT64_FORMAT " failed once and passed when run "
				    "again: the model is not deterministic", result->failing_schedule);
			ok = FALSE;
		}
	}
	if (ok && result->failed) {
		if (opts->shrink) {
			ok = explore_shrink(target, &result->found, FALSE, &result->shrunk,
					    &result->shrink_runs, error);
		} else {
			const GArray *d = result->found.deviations;

			ok = explore_run_schedule(target, (const ExploreChoice *)d->data, d->len,
						  TRUE, FALSE, &result->shrunk, error);
		}
	}
	sum_up(&s);
out:
	g_array_free(s.hashes, TRUE);
	explore_dfs_free(s.dfs);
	return ok;
}

void
explore_result_clear(ExploreResult *r)
{
	explore_run_clear(&r->found);
	explore_run_clear(&r->shrunk);
}
