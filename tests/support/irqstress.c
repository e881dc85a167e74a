// SPDX-License-Identifier: MIT
#include "tests/support/irqstress.h"

#include <errno.h>
#include <sched.h>

struct thread {
	pthread_t tid;
	struct ts_stress *w;
	unsigned int id;
	void (*vcpu)(struct ts_stress *w, unsigned int id);
	void (*noise)(struct ts_stress *w);
};

void ts_stress_init(struct ts_stress *w, const struct irq_chip *chip,
		    void *ctx)
{
	w->chip = chip;
	w->ctx = ctx;
	w->deadline = time(NULL) + TS_STRESS_SECONDS;
	for (uint32_t s = 1; s <= TS_STRESS_SRC; s++)
		pthread_mutex_init(&w->src[s].lock, NULL);
}

void ts_stress_fini(struct ts_stress *w)
{
	for (uint32_t s = 1; s <= TS_STRESS_SRC; s++)
		pthread_mutex_destroy(&w->src[s].lock);
}

void ts_stress_error(struct ts_stress *w)
{
	__atomic_fetch_add(&w->errors, 1, __ATOMIC_RELAXED);
}

bool ts_stress_stopped(struct ts_stress *w)
{
	if (time(NULL) > w->deadline) {
		ts_stress_error(w);
		__atomic_store_n(&w->stop, true, __ATOMIC_RELAXED);
	}
	return __atomic_load_n(&w->stop, __ATOMIC_RELAXED);
}

void ts_stress_set(struct ts_stress *w, uint32_t s, bool on)
{
	if (w->chip->set_level(w->chip->ctx, s, on))
		ts_stress_error(w);
}

static bool busy(struct ts_stress_src *x)
{
	bool b;

	pthread_mutex_lock(&x->lock);
	b = x->status;
	pthread_mutex_unlock(&x->lock);
	return b;
}

/* Raise source @s once it was served; false when the run stopped. */
static bool raise_when_served(struct ts_stress *w, uint32_t s)
{
	struct ts_stress_src *x = &w->src[s];

	for (;;) {
		bool was_busy;

		pthread_mutex_lock(&x->lock);
		was_busy = x->status;
		if (!was_busy) {
			x->status = true;
			x->raised++;
			x->expected++;
			ts_stress_set(w, s, true);
		}
		pthread_mutex_unlock(&x->lock);
		if (!was_busy)
			return true;
		if (ts_stress_stopped(w))
			return false;
		sched_yield();
	}
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;

	if (t->vcpu)
		t->vcpu(t->w, t->id);
	else if (t->noise)
		t->noise(t->w);
	else
		for (unsigned int r = 0; r < TS_STRESS_ROUNDS; r++)
			for (uint32_t s = t->id + 1; s <= TS_STRESS_SRC;
			     s += TS_STRESS_DEVS)
				if (!raise_when_served(t->w, s))
					return NULL;
	return NULL;
}

static int start(struct thread *t, struct ts_stress *w, unsigned int id,
		 void (*vcpu)(struct ts_stress *, unsigned int),
		 void (*noise)(struct ts_stress *))
{
	*t = (struct thread){ .w = w, .id = id, .vcpu = vcpu, .noise = noise };
	return -pthread_create(&t->tid, NULL, thread_main, t);
}

int ts_stress_run(struct ts_stress *w, unsigned int nr_vcpus,
		  void (*vcpu)(struct ts_stress *w, unsigned int id),
		  void (*noise)(struct ts_stress *w))
{
	struct thread vc[TS_STRESS_MAX_VCPUS], nz, dev[TS_STRESS_DEVS];
	unsigned int nv = 0, nd = 0;
	bool have_noise = false;
	int ret = nr_vcpus > TS_STRESS_MAX_VCPUS ? -EINVAL : 0;

	for (; !ret && nv < nr_vcpus; nv++)
		if ((ret = start(&vc[nv], w, nv, vcpu, NULL)))
			break;
	if (!ret)
		have_noise = !(ret = start(&nz, w, 0, NULL, noise));
	for (; !ret && nd < TS_STRESS_DEVS; nd++)
		if ((ret = start(&dev[nd], w, nd, NULL, NULL)))
			break;
	if (ret)
		__atomic_store_n(&w->stop, true, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < nd; i++)
		pthread_join(dev[i].tid, NULL);
	/* The last raises must be served too. */
	for (uint32_t s = 1; s <= TS_STRESS_SRC && !ts_stress_stopped(w); s++)
		while (busy(&w->src[s]) && !ts_stress_stopped(w))
			sched_yield();
	__atomic_store_n(&w->stop, true, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < nv; i++)
		pthread_join(vc[i].tid, NULL);
	if (have_noise)
		pthread_join(nz.tid, NULL);
	return ret;
}
