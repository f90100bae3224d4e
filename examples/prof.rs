use std::time::Instant;
fn main() {
    let name = std::env::args().nth(1).unwrap_or("large-cluster".into());
    let text = kafkasim::builtin::get(&name).unwrap();
    let scenario = kafkasim::scenario::parse(&name, text).unwrap();
    let seed = scenario.seed;
    let mut s = kafkasim::session::Session::new(scenario, seed, vec![]).unwrap();
    let t = Instant::now();
    s.look_ahead_all();
    println!("look ahead {:?}, steps {:?} spacing {}", t.elapsed(), s.total_steps(), s.snapshot_spacing());
    let total = s.total_steps().unwrap();
    let mut seeks = vec![]; let mut views = vec![]; let mut ledgers = vec![]; let mut backs = vec![];
    for i in 0..20u64 {
        let target = (i * 7919 * 13) % total;
        let t = Instant::now(); s.seek(target); seeks.push(t.elapsed().as_secs_f64()*1e3);
        let t = Instant::now(); let v = s.sim().state_view(); views.push(t.elapsed().as_secs_f64()*1e3);
        let t = Instant::now(); let l = s.sim().ledger_view_limited(200); ledgers.push(t.elapsed().as_secs_f64()*1e3);
        let t = Instant::now(); s.step_back(); backs.push(t.elapsed().as_secs_f64()*1e3);
        std::hint::black_box((v, l));
    }
    for (n, mut v) in [("seek", seeks), ("state_view", views), ("ledger", ledgers), ("back", backs)] {
        v.sort_by(|a, b| a.total_cmp(b));
        println!("{n}: median {:.2} ms max {:.2}", v[v.len()/2], v[v.len()-1]);
    }
}
