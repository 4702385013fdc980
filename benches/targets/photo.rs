//! `sbk photo fix` on a 4000×3000 JPEG (a face of ordinary size: a fifth of the width)
//! beside ImageMagick and libvips doing the same job
//! (cover-crop to 358×441, JPEG quality 90) on the same file, alternating whole-command
//! runs. sbk's output must pass `sbk photo check`: a fix that does not pass does not count.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::measure::{Baseline, Row, ms, stats};

fn run(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    let out = cmd.output().expect("the command runs");
    let took = t.elapsed();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn imagemagick() -> Option<String> {
    ["magick", "convert"]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .arg("-version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(str::to_owned)
}

pub fn fix(sbk: &Path, work: &Path, rounds: usize) -> Vec<Row> {
    let input = work.join("phone-4000x3000.jpg");
    run(Command::new(sbk)
        .args(["photo", "sample"])
        .arg(&input)
        .args(["--width", "4000", "--height", "3000"]));
    let magick = imagemagick().expect("ImageMagick (benches/run installs it)");
    let outputs = [
        work.join("sbk.jpg"),
        work.join("im.jpg"),
        work.join("vips.jpg"),
    ];
    let mut commands = [
        {
            let mut c = Command::new(sbk);
            c.args(["photo", "fix"]).arg(&input).arg(&outputs[0]);
            c
        },
        {
            let mut c = Command::new(&magick);
            c.arg(&input)
                .args([
                    "-resize", "358x441^", "-gravity", "center", "-extent", "358x441",
                ])
                .args(["-quality", "90"])
                .arg(&outputs[1]);
            c
        },
        {
            let mut c = Command::new("vipsthumbnail");
            c.arg(&input)
                .args(["-s", "358x441", "--smartcrop=centre", "-o"])
                .arg(format!("{}[Q=90]", outputs[2].display()));
            c
        },
    ];
    // What a clerk's import does with a phone photo: check it (face found, "wrong size"),
    // then fix it from the face. The check says the photo fails (exit 1): not an error.
    let mut check_input = Command::new(sbk);
    check_input
        .args(["photo", "check", "--kind", "card"])
        .arg(&input);
    let mut times: [Vec<Duration>; 3] = Default::default();
    let mut check_and_fix = Vec::new();
    for k in 0..rounds + 2 {
        for (cmd, t) in commands.iter_mut().zip(times.iter_mut()) {
            let took = run(cmd);
            if k >= 2 {
                t.push(took);
            }
        }
        let t = Instant::now();
        let out = check_input.output().expect("sbk photo check runs");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("358×441")
                && !String::from_utf8_lossy(&out.stdout).contains("没有找到人脸"),
            "the check found no face or said nothing of the size"
        );
        let took = t.elapsed() + run(&mut commands[0]);
        if k >= 2 {
            check_and_fix.push(took);
        }
    }
    // sbk's output must pass the card photo rules; the peers must at least have done the
    // same geometric job (their JPEGs of this smooth synthetic scene fall under the
    // 20 KB minimum, which sbk's encoder meets by its choice of quality).
    let check = Command::new(sbk)
        .args(["photo", "check"])
        .arg(&outputs[0])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "sbk's fixed photo does not pass the check:\n{}",
        String::from_utf8_lossy(&check.stdout)
    );
    for out in &outputs {
        let size = image::image_dimensions(out).expect("a readable JPEG");
        assert_eq!(size, (358, 441), "{} is not 358×441", out.display());
    }
    let [s, im, vips] = times.map(stats);
    let both = stats(check_and_fix);
    let row = |base: &str, b: crate::measure::Stats, target: &str, met: bool| Row {
        section: "Photo".into(),
        what: "photo fix, 4000×3000 JPEG → 358×441".into(),
        unit: "ms".into(),
        median: ms(s.median),
        p99: Some(ms(s.p99)),
        baseline: Some(Baseline {
            what: base.into(),
            median: ms(b.median),
            p99: Some(ms(b.p99)),
        }),
        ratio: Some(ms(s.median) / ms(b.median)),
        target: target.into(),
        met: Some(met),
    };
    let face_row = Row {
        section: "Photo".into(),
        what: "photo check + fix with the face found and placed, 4000×3000 JPEG".into(),
        unit: "ms".into(),
        median: ms(both.median),
        p99: Some(ms(both.p99)),
        baseline: Some(Baseline {
            what: "libvips (vipsthumbnail --smartcrop=centre)".into(),
            median: ms(vips.median),
            p99: Some(ms(vips.p99)),
        }),
        ratio: Some(ms(both.median) / ms(vips.median)),
        target: "≤ 2× libvips".into(),
        met: Some(ms(both.median) <= 2.0 * ms(vips.median)),
    };
    vec![
        face_row,
        row(
            &format!("ImageMagick ({magick} -resize -extent)"),
            im,
            "< 1× (faster)",
            s.median < im.median,
        ),
        row(
            "libvips (vipsthumbnail --smartcrop=centre)",
            vips,
            "≤ 1.5× baseline",
            ms(s.median) <= 1.5 * ms(vips.median),
        ),
    ]
}
