# spikefly report: redraw with `gnuplot report.gp` in this directory
set terminal pngcairo size 1000,766 font ',10' noenhanced
set grid
set key below vertical maxcols 1
set datafile missing 'nan'

set output 'return_vs_env_steps.png'
set title 'experiment fig4, scale smoke: mean over seeds, band min to max (offline settings: no env steps, see return_vs_epochs.png)'
set xlabel 'environment steps (per agent)'
set ylabel 'return (final reward coefficients)'
set format x '%.3g'
plot 'curve_1.dat' using 3:7:8 with filledcurves fc rgb '#1f77b4' fs transparent solid 0.15 noborder notitle, \
  'curve_1.dat' using 3:5 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#1f77b4' title 'td3bc_jsrl train.bc=true train.jumpstart=true (3 seeds)', \
  'curve_2.dat' using 3:7:8 with filledcurves fc rgb '#d62728' fs transparent solid 0.15 noborder notitle, \
  'curve_2.dat' using 3:5 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#d62728' title 'td3bc_jsrl train.bc=true train.jumpstart=false (3 seeds)', \
  'curve_3.dat' using 3:7:8 with filledcurves fc rgb '#2ca02c' fs transparent solid 0.15 noborder notitle, \
  'curve_3.dat' using 3:5 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#2ca02c' title 'td3bc_jsrl train.bc=false train.jumpstart=true (3 seeds)', \
  'curve_4.dat' using 3:7:8 with filledcurves fc rgb '#ff7f0e' fs transparent solid 0.15 noborder notitle, \
  'curve_4.dat' using 3:5 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#ff7f0e' title 'td3bc_jsrl train.bc=false train.jumpstart=false (3 seeds)', \
  'curve_7.dat' using 3:7:8 with filledcurves fc rgb '#e377c2' fs transparent solid 0.15 noborder notitle, \
  'curve_7.dat' using 3:5 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#e377c2' title 'td3 train.algo=td3 (3 seeds)', \
  100 with lines lc rgb '#555555' dt 2 lw 1 title 'return 100'

set output 'return_current_vs_env_steps.png'
set title 'experiment fig4, scale smoke: mean over seeds, band min to max (offline settings: no env steps, see return_vs_epochs.png)'
set xlabel 'environment steps (per agent)'
set ylabel 'return (curriculum''s current coefficients)'
set format x '%.3g'
plot 'curve_1.dat' using 3:11:12 with filledcurves fc rgb '#1f77b4' fs transparent solid 0.15 noborder notitle, \
  'curve_1.dat' using 3:9 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#1f77b4' title 'td3bc_jsrl train.bc=true train.jumpstart=true (3 seeds)', \
  'curve_2.dat' using 3:11:12 with filledcurves fc rgb '#d62728' fs transparent solid 0.15 noborder notitle, \
  'curve_2.dat' using 3:9 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#d62728' title 'td3bc_jsrl train.bc=true train.jumpstart=false (3 seeds)', \
  'curve_3.dat' using 3:11:12 with filledcurves fc rgb '#2ca02c' fs transparent solid 0.15 noborder notitle, \
  'curve_3.dat' using 3:9 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#2ca02c' title 'td3bc_jsrl train.bc=false train.jumpstart=true (3 seeds)', \
  'curve_4.dat' using 3:11:12 with filledcurves fc rgb '#ff7f0e' fs transparent solid 0.15 noborder notitle, \
  'curve_4.dat' using 3:9 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#ff7f0e' title 'td3bc_jsrl train.bc=false train.jumpstart=false (3 seeds)', \
  'curve_7.dat' using 3:11:12 with filledcurves fc rgb '#e377c2' fs transparent solid 0.15 noborder notitle, \
  'curve_7.dat' using 3:9 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#e377c2' title 'td3 train.algo=td3 (3 seeds)', \
  100 with lines lc rgb '#555555' dt 2 lw 1 title 'return 100'

set output 'return_vs_epochs.png'
set title 'experiment fig4, scale smoke: mean over seeds, band min to max'
set xlabel 'epoch'
set ylabel 'return (final reward coefficients)'
set format x '%.3g'
plot 'curve_1.dat' using 1:7:8 with filledcurves fc rgb '#1f77b4' fs transparent solid 0.15 noborder notitle, \
  'curve_1.dat' using 1:5 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#1f77b4' title 'td3bc_jsrl train.bc=true train.jumpstart=true (3 seeds)', \
  'curve_2.dat' using 1:7:8 with filledcurves fc rgb '#d62728' fs transparent solid 0.15 noborder notitle, \
  'curve_2.dat' using 1:5 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#d62728' title 'td3bc_jsrl train.bc=true train.jumpstart=false (3 seeds)', \
  'curve_3.dat' using 1:7:8 with filledcurves fc rgb '#2ca02c' fs transparent solid 0.15 noborder notitle, \
  'curve_3.dat' using 1:5 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#2ca02c' title 'td3bc_jsrl train.bc=false train.jumpstart=true (3 seeds)', \
  'curve_4.dat' using 1:7:8 with filledcurves fc rgb '#ff7f0e' fs transparent solid 0.15 noborder notitle, \
  'curve_4.dat' using 1:5 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#ff7f0e' title 'td3bc_jsrl train.bc=false train.jumpstart=false (3 seeds)', \
  'curve_5.dat' using 1:7:8 with filledcurves fc rgb '#9467bd' fs transparent solid 0.15 noborder notitle, \
  'curve_5.dat' using 1:5 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#9467bd' title 'bc train.algo=bc (3 seeds)', \
  'curve_6.dat' using 1:7:8 with filledcurves fc rgb '#8c564b' fs transparent solid 0.15 noborder notitle, \
  'curve_6.dat' using 1:5 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#8c564b' title 'td3bc train.algo=td3bc (3 seeds)', \
  'curve_7.dat' using 1:7:8 with filledcurves fc rgb '#e377c2' fs transparent solid 0.15 noborder notitle, \
  'curve_7.dat' using 1:5 with linespoints lw 2 pt 7 ps 0.5 dt 1 lc rgb '#e377c2' title 'td3 train.algo=td3 (3 seeds)', \
  100 with lines lc rgb '#555555' dt 2 lw 1 title 'return 100'
set output
