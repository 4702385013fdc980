//! Reference tables from `data/`, embedded in the binary and parsed once on first use.
//!
//! The files are plain CSV/TSV with `#` comment lines at the head citing their sources.
//! They are part of the build: a malformed table is a programming error caught by the
//! tests in this module, so parsing panics with the file and line rather than limping on.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A Beijing district (GB/T 2260 code and name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct District {
    pub code: &'static str,
    pub name: &'static str,
}

/// One of the 56 ethnic groups with its GB/T 3304 codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthnicGroup {
    pub code: &'static str,
    pub name: &'static str,
    pub romanization: &'static str,
    pub letter_code: &'static str,
}

/// An occupation entry the form offers; `code` is what the JSON stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occupation {
    pub code: &'static str,
    pub name: &'static str,
    pub standard_name: &'static str,
    pub scheme: &'static str,
}

/// A simple code → name entry (ID types, nationalities, banks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub code: &'static str,
    pub name: &'static str,
}

/// A GB/T 2260 region code, current or retired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub code: &'static str,
    pub name: &'static str,
    /// Province + prefecture + county, e.g. 北京市朝阳区.
    pub full_name: &'static str,
    /// The last year the code was in use; `None` while it still is.
    pub retired_after: Option<u16>,
}

/// All reference tables.
pub struct RefData {
    pub districts: Vec<District>,
    pub ethnic_groups: Vec<EthnicGroup>,
    pub occupations: Vec<Occupation>,
    pub id_types: Vec<Named>,
    pub nationalities: Vec<Named>,
    pub banks: Vec<Named>,
    /// How an agent (代办人) is related to the applicant.
    pub agent_relations: Vec<Named>,
    regions: HashMap<&'static str, Region>,
}

/// The default occupation code (离退休人员), as the guide says the form defaults to.
pub const DEFAULT_OCCUPATION: &str = "80";
/// The default nationality code (中国).
pub const DEFAULT_NATIONALITY: &str = "CHN";

static REFDATA: LazyLock<RefData> = LazyLock::new(RefData::load);

/// The embedded reference data, parsed on first use.
pub fn refdata() -> &'static RefData {
    &REFDATA
}

/// Data rows of a table: comment lines and the header dropped, each split on `sep`
/// into exactly `columns` fields.
fn rows(
    file: &'static str,
    text: &'static str,
    sep: char,
    columns: usize,
) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(move |(i, line)| {
            let fields: Vec<&str> = line.split(sep).collect();
            assert!(
                fields.len() == columns,
                "data/{file} line {}: expected {columns} fields, found {}",
                i + 1,
                fields.len()
            );
            fields
        })
}

impl RefData {
    fn load() -> RefData {
        let districts = rows(
            "districts.csv",
            include_str!("../../data/districts.csv"),
            ',',
            2,
        )
        .map(|f| District {
            code: f[0],
            name: f[1],
        })
        .collect();
        let ethnic_groups = rows(
            "ethnic_groups.csv",
            include_str!("../../data/ethnic_groups.csv"),
            ',',
            4,
        )
        .map(|f| EthnicGroup {
            code: f[0],
            name: f[1],
            romanization: f[2],
            letter_code: f[3],
        })
        .collect();
        let occupations = rows(
            "occupations.csv",
            include_str!("../../data/occupations.csv"),
            ',',
            4,
        )
        .map(|f| Occupation {
            code: f[0],
            name: f[1],
            standard_name: f[2],
            scheme: f[3],
        })
        .collect();
        let named = |file, text| {
            rows(file, text, ',', 2)
                .map(|f| Named {
                    code: f[0],
                    name: f[1],
                })
                .collect()
        };
        let regions = rows("gb2260.tsv", include_str!("../../data/gb2260.tsv"), '\t', 4)
            .map(|f| {
                let retired_after = (!f[3].is_empty()).then(|| {
                    f[3].parse()
                        .unwrap_or_else(|_| panic!("data/gb2260.tsv: bad year {:?}", f[3]))
                });
                (
                    f[0],
                    Region {
                        code: f[0],
                        name: f[1],
                        full_name: f[2],
                        retired_after,
                    },
                )
            })
            .collect();
        RefData {
            districts,
            ethnic_groups,
            occupations,
            id_types: named("id_types.csv", include_str!("../../data/id_types.csv")),
            nationalities: named(
                "nationalities.csv",
                include_str!("../../data/nationalities.csv"),
            ),
            banks: named("banks.csv", include_str!("../../data/banks.csv")),
            agent_relations: named(
                "agent_relations.csv",
                include_str!("../../data/agent_relations.csv"),
            ),
            regions,
        }
    }

    /// A GB/T 2260 region by its 6-digit code, current or retired.
    pub fn region(&self, code: &str) -> Option<&Region> {
        self.regions.get(code)
    }

    /// Number of region codes known (current and retired).
    pub fn region_count(&self) -> usize {
        self.regions.len()
    }

    /// Every region code known, in no particular order (for tests and generators).
    pub fn region_codes(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.regions.keys().copied()
    }

    pub fn district(&self, code: &str) -> Option<&District> {
        self.districts.iter().find(|d| d.code == code)
    }

    /// An ethnic group by code, or by name (older names 毛难族, 崩龙族 included).
    pub fn ethnic_group(&self, code_or_name: &str) -> Option<&EthnicGroup> {
        let name = match code_or_name {
            "毛难族" => "毛南族",
            "崩龙族" => "德昂族",
            other => other,
        };
        self.ethnic_groups
            .iter()
            .find(|e| e.code == code_or_name || e.name == name)
    }

    pub fn occupation(&self, code: &str) -> Option<&Occupation> {
        self.occupations.iter().find(|o| o.code == code)
    }

    pub fn nationality(&self, code: &str) -> Option<&Named> {
        self.nationalities.iter().find(|n| n.code == code)
    }

    pub fn bank(&self, code: &str) -> Option<&Named> {
        self.banks.iter().find(|b| b.code == code)
    }

    pub fn agent_relation(&self, code: &str) -> Option<&Named> {
        self.agent_relations.iter().find(|r| r.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_the_expected_sizes() {
        let r = refdata();
        assert_eq!(r.districts.len(), 16, "Beijing has 16 districts");
        assert_eq!(r.ethnic_groups.len(), 56, "China has 56 ethnic groups");
        assert!(r.region_count() > 6800, "national GB/T 2260 table");
        assert_eq!(r.occupations[0].code, DEFAULT_OCCUPATION);
        assert_eq!(r.occupations[0].name, "离退休人员");
        assert_eq!(r.nationalities[0].code, DEFAULT_NATIONALITY);
        assert_eq!(r.id_types[0].code, "resident_id");
        let relations: Vec<&str> = r.agent_relations.iter().map(|n| n.name).collect();
        assert_eq!(
            relations,
            [
                "配偶",
                "子女",
                "父母",
                "兄弟姐妹",
                "其他亲属",
                "社区工作人员",
                "其他"
            ]
        );
    }

    #[test]
    fn codes_are_unique_within_each_table() {
        let r = refdata();
        let mut seen = std::collections::HashSet::new();
        for code in r.districts.iter().map(|d| d.code) {
            assert!(seen.insert(code), "duplicate district {code}");
        }
        seen.clear();
        for e in &r.ethnic_groups {
            assert!(seen.insert(e.code), "duplicate ethnic code {}", e.code);
            assert!(
                seen.insert(e.letter_code),
                "duplicate letter {}",
                e.letter_code
            );
        }
        for table in [&r.id_types, &r.nationalities, &r.banks, &r.agent_relations] {
            seen.clear();
            for n in table {
                assert!(seen.insert(n.code), "duplicate code {}", n.code);
            }
        }
        seen.clear();
        for o in &r.occupations {
            assert!(seen.insert(o.code), "duplicate occupation {}", o.code);
        }
    }

    #[test]
    fn districts_are_current_beijing_regions_with_beijing_postcodes() {
        let r = refdata();
        for d in &r.districts {
            let region = r.region(d.code).expect("district code in GB/T 2260");
            assert_eq!(region.retired_after, None, "{} is current", d.name);
            assert_eq!(region.name, d.name);
        }
    }

    #[test]
    fn retired_beijing_codes_are_kept_with_their_last_year() {
        let r = refdata();
        let chongwen = r.region("110103").unwrap();
        assert_eq!(chongwen.full_name, "北京市崇文区");
        assert_eq!(chongwen.retired_after, Some(2010));
        // Every retired Beijing code from the project's refdata list is present.
        for code in [
            "110103", "110104", "110110", "110201", "110209", "110221", "110229",
        ] {
            assert!(r.region(code).unwrap().retired_after.is_some(), "{code}");
        }
        assert_eq!(r.region("110105").unwrap().full_name, "北京市朝阳区");
        assert_eq!(
            r.region("130102").unwrap().full_name,
            "河北省石家庄市长安区"
        );
        assert!(r.region("999999").is_none());
    }

    #[test]
    fn older_ethnic_names_are_aliases() {
        let r = refdata();
        assert_eq!(r.ethnic_group("毛难族").unwrap().code, "36");
        assert_eq!(r.ethnic_group("崩龙族").unwrap().code, "46");
        assert_eq!(r.ethnic_group("01").unwrap().name, "汉族");
        assert_eq!(r.ethnic_group("25").unwrap().letter_code, "SU");
    }
}
