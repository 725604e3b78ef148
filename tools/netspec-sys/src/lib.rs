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
    use core::mem::{align_of, offset_of, size_of};

    #[test]
    fn query_struct_is_the_first_published_size() {
        assert_eq!(size_of::<netspec_query>(), NETSPEC_QUERY_SIZE_VER0 as usize);
        // __aligned_u64: the same layout on 32-bit ABIs, so no compat entry.
        assert_eq!(align_of::<netspec_query>(), 8);
    }

    #[test]
    fn every_struct_is_its_published_size_on_every_abi() {
        assert_eq!(size_of::<netspec_customize>(), NETSPEC_CUSTOMIZE_SIZE_VER0 as usize);
        assert_eq!(size_of::<netspec_cancel>(), NETSPEC_CANCEL_SIZE_VER0 as usize);
        assert_eq!(size_of::<netspec_info>(), NETSPEC_INFO_SIZE_VER3 as usize);
        // The policy bytes took the place of customize's reserved u64, so the
        // struct kept its size; with no 64-bit member left it is 4-aligned,
        // which is also the same on every ABI.
        assert_eq!(offset_of!(netspec_customize, policy), 48);
        assert_eq!(align_of::<netspec_customize>(), 4);
        assert_eq!(align_of::<netspec_info>(), 8);
        // info only grew at its end.
        assert_eq!(offset_of!(netspec_info, trips), NETSPEC_INFO_SIZE_VER0 as usize);
        assert_eq!(offset_of!(netspec_info, policy), 80);
        assert_eq!(offset_of!(netspec_info, rewrites), NETSPEC_INFO_SIZE_VER1 as usize);
        assert_eq!(offset_of!(netspec_info, mss), NETSPEC_INFO_SIZE_VER2 as usize);
        assert_eq!(offset_of!(netspec_info, mss_clamp), 100);
    }

    #[test]
    fn every_event_has_a_policy_byte() {
        let c = netspec_customize::default();
        let i = netspec_info::default();
        assert!((NETSPEC_EVENTS as usize) <= c.policy.len());
        assert_eq!(c.policy.len(), i.policy.len());
        // Policies are bytes: every one must fit.
        assert!(NETSPEC_POLICY_REINFORCE <= u8::MAX.into());
    }

    #[test]
    fn so_adu_is_a_define_bindgen_keeps() {
        // A #define, not an enum: bindgen must still emit it, as the one
        // number on every architecture.
        assert_eq!(SO_ADU, 0x4e53);
    }

    #[test]
    fn send_batch_and_batch_max_are_defines_bindgen_keeps() {
        // The flag is a bit no MSG_* flag uses, the same on every
        // architecture; the limit is sendmmsg()'s UIO_MAXIOV.
        assert_eq!(NETSPEC_SEND_BATCH, 0x0100_0000);
        assert_eq!(NETSPEC_BATCH_MAX, 1024);
    }

    #[test]
    fn syscall_numbers_are_the_generic_ones_on_this_target() {
        // Every arch this crate builds for follows the generic numbering
        // (alpha, the one exception, is not one of them).
        assert_eq!(SYS_netspec & 0xffff, 600);
        assert_eq!(SYS_customized_send & 0xffff, 601);
    }
}
