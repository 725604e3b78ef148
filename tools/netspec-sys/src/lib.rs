//! Raw bindings to `include/uapi/linux/netspec.h` and the netspec syscall numbers.
//!
//! Nothing here is written by hand: `build.rs` rebuilds the header from the
//! patches in `patches/6.12/` that create and extend it and runs bindgen on
//! it, and takes [`SYS_netspec`] and [`SYS_customized_send`] for the target
//! architecture from `kernel-syscalls.toml`.
//! Items keep their C names (`netspec_query`, `NETSPEC_OP_QUERY`).
//!
//! Architecture invariant: no logic and no safe API (that is the `netspec`
//! crate); no fact that the series or `kernel-syscalls.toml` already states.

#![no_std]

/// The items of `<linux/netspec.h>`, as bindgen generates them.
#[allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    missing_docs
)]
mod uapi {
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}
pub use uapi::*;

include!(concat!(env!("OUT_DIR"), "/sys_netspec.rs"));

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, size_of};

    #[test]
    fn query_struct_is_the_first_published_size() {
        assert_eq!(size_of::<netspec_query>(), NETSPEC_QUERY_SIZE_VER0 as usize);
        // __aligned_u64: the same layout on 32-bit ABIs, so no compat entry.
        assert_eq!(align_of::<netspec_query>(), 8);
    }

    #[test]
    fn every_struct_is_its_first_published_size_on_every_abi() {
        assert_eq!(size_of::<netspec_customize>(), NETSPEC_CUSTOMIZE_SIZE_VER0 as usize);
        assert_eq!(size_of::<netspec_cancel>(), NETSPEC_CANCEL_SIZE_VER0 as usize);
        assert_eq!(size_of::<netspec_info>(), NETSPEC_INFO_SIZE_VER0 as usize);
        assert_eq!(align_of::<netspec_customize>(), 8);
        assert_eq!(align_of::<netspec_info>(), 8);
    }

    #[test]
    fn syscall_numbers_are_the_generic_ones_on_this_target() {
        // Every arch this crate builds for follows the generic numbering
        // (alpha, the one exception, is not one of them).
        assert_eq!(SYS_netspec & 0xffff, 600);
        assert_eq!(SYS_customized_send & 0xffff, 601);
    }
}
