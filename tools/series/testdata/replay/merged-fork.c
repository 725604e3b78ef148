	mm_init_uprobes_state(mm);
	hugetlb_count_init(mm);
<<<<<<< Linux 6.12.118
#ifdef CONFIG_FUTEX
	atomic64_set(&mm->futex_unique_id, 0);
#endif
=======
	netspec_mm_init(mm);
>>>>>>> patch

	if (current->mm) {
