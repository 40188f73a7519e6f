#include "demo.h"

int demo_open(struct demo_dev *d)
{
	d->mm = current->mm;
	mmgrab(d->mm);
	d->owner_mm = get_task_mm(current);
	return 0;
}

void demo_release(struct demo_dev *d)
{
	mmdrop(d->mm);
	mmput(d->owner_mm);
}

/* Wrong: only mm_count is held while the page tables are used. */
static void demo_worker_bad(struct demo_dev *d)
{
	kthread_use_mm(d->mm);
	kthread_unuse_mm(d->mm);
}

/* Right: grab at open, get around the borrow. */
static void demo_worker_good(struct demo_dev *d)
{
	if (!mmget_not_zero(d->mm))
		return;
	kthread_use_mm(d->mm);
	kthread_unuse_mm(d->mm);
	mmput(d->mm);
}

/* Right: the object owns an mm_users reference. */
static void demo_worker_owner(struct demo_dev *d)
{
	kthread_use_mm(d->owner_mm);
	kthread_unuse_mm(d->owner_mm);
}
