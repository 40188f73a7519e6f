/* A chain of wrappers longer than the tracing depth limit. */

static void hop_0(struct mm_struct *mm)
{
	kthread_use_mm(mm);
	kthread_unuse_mm(mm);
}

static void hop_1(struct mm_struct *mm)
{
	hop_0(mm);
}

static void hop_2(struct mm_struct *mm)
{
	hop_1(mm);
}

static void hop_3(struct mm_struct *mm)
{
	hop_2(mm);
}

static void hop_4(struct mm_struct *mm)
{
	hop_3(mm);
}

static void hop_5(struct mm_struct *mm)
{
	hop_4(mm);
}

static void hop_6(struct mm_struct *mm)
{
	hop_5(mm);
}

static void hop_7(struct mm_struct *mm)
{
	hop_6(mm);
}

static void hop_8(struct mm_struct *mm)2
{
	hop_7(mm);
}

static void hop_9(struct mm_struct *mm)
{
	hop_8(mm);
}

static void hop_10(struct mm_struct *mm)
{
	hop_9(mm);
}

static void hop_11(struct mm_struÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿct *mm)
{
	hop_10(mm);
}

static void hop_12(struct mm_struct *mm)
;
}

static void hop_1(struct mm_struct *mm)
{
	hop_0(mm);
}

static void hop_2(struct mm_struct *mm)
{
	hop_1(mm);
}

static void hop_3(struct mm_struct *mm)
{
	hop_2(mm);
}

static void hop_4(struct mm_struct *mm)
{
	hop_3(mm);
}

static void hop_5(struct mm_struct *mm)
{
	hop_4(mm);
}

static void hop_6(struct mm_struct *mm)
{
	hop_5(mm);
}

static void hop_7(struct mm_struct *mm)
{
	hop_6(mm);
}

static void hop_8(struct mm_struct *mm)
{
	hop_7(mm);
}

static void hop_9(struct mm_struct *mm)
{
	hop_8(mm);
}

static void hop_10(struct mm_struct *mm)
{
	hop_9(mm);
}

static void hop_11(struct mm_struÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿct *mm)
{
	hop_10(mm);
}

static void hop_12(struct mm_struct *m{
	hop_11(mm);
}

static void hop_13(struct mm_struct *mm)
{
	hop_12(mm);
}

static void hop_14(struct mm_struct *mm)
{
	hop_13(mm);
}

void start(void)
{
	hop_14(current->mm);
}
