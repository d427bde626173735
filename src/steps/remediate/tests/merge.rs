//! The union written to IAM.

use super::*;

#[test]
fn merge_keeps_the_fresh_list_first_then_adds() {
    let merge = merge_thumbprints(&[OLD.to_string()], &[thumbprint('a')]).unwrap();
    assert_eq!(merge.thumbprints, vec![OLD.to_string(), thumbprint('a')]);
    assert_eq!(merge.added, vec![thumbprint('a')]);
}

#[test]
fn merge_builds_the_union_from_a_list_that_changed_since_the_sweep_read_it() {
    // The sweep read [OLD]; someone added 'c' before the write. 'c' must survive.
    let fresh = vec![OLD.to_string(), thumbprint('c')];
    let merge = merge_thumbprints(&fresh, &[thumbprint('a')]).unwrap();
    assert_eq!(
        merge.thumbprints,
        vec![OLD.to_string(), thumbprint('c'), thumbprint('a')]
    );
    assert_eq!(merge.added, vec![thumbprint('a')]);
}

#[test]
fn merge_dedupes_case_insensitively_and_writes_lowercase() {
    let fresh = vec![OLD.to_ascii_uppercase(), OLD.to_string()];
    let merge =
        merge_thumbprints(&fresh, &[OLD.to_string(), thumbprint('a').to_uppercase()]).unwrap();
    assert_eq!(merge.thumbprints, vec![OLD.to_string(), thumbprint('a')]);
    assert_eq!(merge.added, vec![thumbprint('a')]);
}

#[test]
fn merge_with_everything_present_adds_nothing_even_on_a_full_list() {
    let five: Vec<String> = ['1', '2', '3', '4', '5'].map(thumbprint).to_vec();
    let merge = merge_thumbprints(&five, &[thumbprint('3')]).unwrap();
    assert_eq!(merge.thumbprints, five);
    assert!(merge.added.is_empty());
}

#[test]
fn merge_never_exceeds_five() {
    let five: Vec<String> = ['1', '2', '3', '4', '5'].map(thumbprint).to_vec();
    let err = merge_thumbprints(&five, &[thumbprint('a')]).unwrap_err();
    assert_eq!(
        err,
        MergeError::Full {
            configured: 5,
            adding: vec![thumbprint('a')]
        }
    );
    assert!(err.to_string().starts_with("no room: "));
    let four = &five[..4];
    assert!(matches!(
        merge_thumbprints(four, &[thumbprint('a'), thumbprint('b')]),
        Err(MergeError::Full { .. })
    ));
    assert_eq!(
        merge_thumbprints(four, &[thumbprint('a')])
            .unwrap()
            .thumbprints
            .len(),
        5
    );
}

#[test]
fn merge_refuses_malformed_entries_new_or_old() {
    assert_eq!(
        merge_thumbprints(&[OLD.to_string()], &["abc".to_string()]),
        Err(MergeError::Malformed("abc".to_string()))
    );
    let not_hex = "g".repeat(40);
    assert_eq!(
        merge_thumbprints(std::slice::from_ref(&not_hex), &[thumbprint('a')]),
        Err(MergeError::Malformed(not_hex))
    );
}

#[test]
fn thumbprint_format() {
    assert!(is_thumbprint(OLD));
    assert!(!is_thumbprint(&OLD.to_ascii_uppercase()));
    assert!(!is_thumbprint(&OLD[..39]));
    assert!(!is_thumbprint(&format!("{OLD}0")));
    assert!(!is_thumbprint(&"z".repeat(40)));
}
