#define B(mm) kthread_use_mm(
#define C(x) B(x) B(
void g(void) { C(current->mm) }