## PYNQ-Z1 (xc7z020clg400-1): pins of fpga/boards.py BoardTop (accelgen board ENGINE --board pynq_z1).
## Synthesis only in accelgen (no open place-and-route for Xilinx): use this file with Vivado.
## Pin sites from Digilent's PYNQ-Z1 master XDC (rev. C).

## 125 MHz system clock
set_property -dict { PACKAGE_PIN H16 IOSTANDARD LVCMOS33 } [get_ports { clk }]
create_clock -add -name sys_clk_pin -period 8.00 -waveform {0 4} [get_ports { clk }]

## UART on PMOD JA (the PS owns the board's USB-UART): connect a 3.3 V USB-UART cable
## JA2 = Y19: FPGA transmits; JA3 = Y16: FPGA receives
set_property -dict { PACKAGE_PIN Y19 IOSTANDARD LVCMOS33 } [get_ports { uart_tx }]
set_property -dict { PACKAGE_PIN Y16 IOSTANDARD LVCMOS33 PULLUP true } [get_ports { uart_rx }]

## LEDs LD0..LD3: engine flags (VTA: finish, error), LD3 blinks
set_property -dict { PACKAGE_PIN R14 IOSTANDARD LVCMOS33 } [get_ports { led[0] }]
set_property -dict { PACKAGE_PIN P14 IOSTANDARD LVCMOS33 } [get_ports { led[1] }]
set_property -dict { PACKAGE_PIN N16 IOSTANDARD LVCMOS33 } [get_ports { led[2] }]
set_property -dict { PACKAGE_PIN M14 IOSTANDARD LVCMOS33 } [get_ports { led[3] }]
