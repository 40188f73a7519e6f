/* A tiny, made-up driver showing the three shapes mmaudit judges. */
struct demo_dev {
	struct mm_struct *mm;		/* mmgrab()ed at open */
	struct mm_struct *owner_mm;	/* get_task_mm() at open */
};
